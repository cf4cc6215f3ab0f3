namespace DistLock;

/// <summary>
/// Hands out distributed locks, and shows and clears them for operators; what application code
/// depends on, so that it can be injected (<c>services.AddDistLock(...)</c>) and replaced in tests.
/// <see cref="RedisLockManager"/> keeps the locks in Redis, <see cref="InMemoryLockManager"/> in
/// this process; both implement every member alike. Blocking forms of the acquire calls are
/// extension methods (<see cref="LockManagerExtensions"/>).
/// </summary>
public interface ILockManager : IAsyncDisposable
{
    /// <summary>
    /// Waits until the exclusive lock on <paramref name="resource"/> is acquired: held alone, with
    /// no other holder and no reader. It is also the write lock of a reader-writer lock (see
    /// <see cref="AcquireReadAsync(string, TimeSpan?, CancellationToken)"/>).
    /// </summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses the default wait timeout; infinite waits forever.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock.</returns>
    /// <exception cref="LockTimeoutException">Still held by someone else at the timeout.</exception>
    /// <exception cref="LockBackendException">The lock service could not be reached.</exception>
    Task<LockHandle> AcquireAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits until the lock is acquired, with per-call TTL, value or timeout.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock.</returns>
    Task<LockHandle> AcquireAsync(LockRequest request, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire the lock; null when someone else holds it (zero timeout: one attempt).</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock, or null.</returns>
    Task<LockHandle?> TryAcquireAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire the lock with per-call TTL, value or timeout.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock, or null.</returns>
    Task<LockHandle?> TryAcquireAsync(LockRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until a shared read lock on <paramref name="resource"/> is acquired: held together with
    /// other readers, never with the exclusive holder (the writer) of the resource. Once a writer
    /// waits, new readers queue behind it. A read lock cannot be upgraded to the exclusive lock.
    /// </summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses the default wait timeout; infinite waits forever.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held read lock (<see cref="LockHandle.Mode"/> is <see cref="LockMode.Read"/>).</returns>
    /// <exception cref="LockTimeoutException">Still write-locked, or a writer still waiting ahead, at the timeout.</exception>
    /// <exception cref="LockBackendException">The lock service could not be reached.</exception>
    Task<LockHandle> AcquireReadAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits until a read lock is acquired, with per-call TTL, id, timeout or automatic extension.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held read lock.</returns>
    Task<LockHandle> AcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire a read lock; null when it is write-locked, or a writer waits (zero timeout: one attempt).</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held read lock, or null.</returns>
    Task<LockHandle?> TryAcquireReadAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire a read lock with per-call TTL, id, timeout or automatic extension.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held read lock, or null.</returns>
    Task<LockHandle?> TryAcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until one of the <paramref name="maxCount"/> permits of the semaphore named
    /// <paramref name="resource"/> is acquired. A semaphore is not the lock of the same name.
    /// Everyone using the semaphore must give the same <paramref name="maxCount"/>.
    /// </summary>
    /// <param name="resource">The name of the semaphore.</param>
    /// <param name="maxCount">How many may hold the semaphore at once (at least 1).</param>
    /// <param name="timeout">How long to wait; null uses the default wait timeout; infinite waits forever.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays held.</param>
    /// <returns>The held permit (<see cref="LockHandle.Mode"/> is <see cref="LockMode.Semaphore"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">The semaphore is held by callers that gave another <paramref name="maxCount"/>.</exception>
    /// <exception cref="NotSupportedException">The manager uses several independent masters (Redlock), where a count cannot be bounded.</exception>
    /// <exception cref="LockTimeoutException">All permits still held at the timeout.</exception>
    /// <exception cref="LockBackendException">The lock service could not be reached.</exception>
    Task<LockHandle> AcquireSemaphoreAsync(string resource, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits until a permit of the semaphore is acquired, with per-call TTL, id, timeout or automatic extension.</summary>
    /// <param name="request">Which semaphore, and how.</param>
    /// <param name="maxCount">How many may hold the semaphore at once (at least 1).</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays held.</param>
    /// <returns>The held permit.</returns>
    Task<LockHandle> AcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire a permit of the semaphore; null when all are held (zero timeout: one attempt).</summary>
    /// <param name="resource">The name of the semaphore.</param>
    /// <param name="maxCount">How many may hold the semaphore at once (at least 1).</param>
    /// <param name="timeout">How long to keep trying.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays held.</param>
    /// <returns>The held permit, or null.</returns>
    Task<LockHandle?> TryAcquireSemaphoreAsync(string resource, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire a permit of the semaphore with per-call TTL, id, timeout or automatic extension.</summary>
    /// <param name="request">Which semaphore, and how.</param>
    /// <param name="maxCount">How many may hold the semaphore at once (at least 1).</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays held.</param>
    /// <returns>The held permit, or null.</returns>
    Task<LockHandle?> TryAcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Releases a lock this manager handed out.</summary>
    /// <param name="handle">A handle from this manager.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>True when this call released the lock.</returns>
    Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken = default);

    /// <summary>Whether enough of the lock service answers to grant locks (a majority of the nodes).</summary>
    /// <param name="cancellationToken">Stops waiting for the answers.</param>
    /// <returns>How many nodes there are and how many answered.</returns>
    Task<QuorumStatus> CheckNodesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the lock on <paramref name="resource"/> as the nodes have it now: holder, readers,
    /// remaining TTL, last fencing token, waiters. For tools and tests; it changes nothing.
    /// </summary>
    /// <param name="resource">The resource name.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>The lock's state; <see cref="LockInfo.HolderId"/> is null when it is free.</returns>
    /// <exception cref="LockBackendException">Too few nodes answered.</exception>
    Task<LockInfo> InspectAsync(string resource, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the semaphore <paramref name="resource"/> as the node has it now: its maxCount, its
    /// live holders with their remaining TTL, the permits being handed to woken waiters, the line
    /// of waiters and the last fencing token. For tools and tests; it changes nothing.
    /// </summary>
    /// <param name="resource">The semaphore's name.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>The semaphore's state; <see cref="SemaphoreInfo.Holders"/> is empty when nobody holds it.</returns>
    /// <exception cref="NotSupportedException">The manager has several independent nodes (Redlock), where semaphores are not supported.</exception>
    /// <exception cref="LockBackendException">The node did not answer.</exception>
    Task<SemaphoreInfo> InspectSemaphoreAsync(string resource, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists the locks that exist now (held, or being handed to a waiter) whose resource matches
    /// the glob <paramref name="pattern"/> (on Redis with SCAN on every node, never KEYS).
    /// </summary>
    /// <param name="pattern">
    /// A Redis glob over resource names as written (<c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[^a-z]</c>, <c>\</c> before a
    /// character to match it as itself); <c>*</c> lists all. A name with a hash tag is matched as a
    /// whole: <c>{bank}17</c> matches <c>{bank}*</c> and <c>*17</c>, not <c>bank*</c>.
    /// </param>
    /// <param name="cancellationToken">Stops the listing.</param>
    /// <returns>Each lock once.</returns>
    IAsyncEnumerable<LockInfo> ListAsync(string pattern = "*", CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the lock on <paramref name="resource"/> whoever holds it, and wakes the next waiter.
    /// For operators clearing a stuck lock: the holder is not asked; its next extension is refused
    /// and its <see cref="LockHandle.LostToken"/> fires. Never needed in normal use.
    /// </summary>
    /// <param name="resource">The resource name.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>True when a lock key was deleted on some node.</returns>
    /// <exception cref="LockBackendException">Too few nodes answered.</exception>
    Task<bool> ForceReleaseAsync(string resource, CancellationToken cancellationToken = default);

    /// <summary>
    /// Frees permits of the semaphore <paramref name="resource"/> whoever holds them: the permit of
    /// <paramref name="holderId"/> (a <see cref="LockHolder.HolderId"/> that
    /// <see cref="InspectSemaphoreAsync"/> shows), or every holder's when it is null; then wakes
    /// one waiter per permit freed. For operators clearing a stuck holder: the holder is not asked;
    /// its next extension is refused and its <see cref="LockHandle.LostToken"/> fires. Permits
    /// being handed to woken waiters are left to them. Never needed in normal use.
    /// </summary>
    /// <param name="resource">The semaphore's name.</param>
    /// <param name="holderId">The holder whose permit to free, or null for every holder.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>How many permits were freed (0 when the holder, or every holder, was gone already).</returns>
    /// <exception cref="ArgumentException"><paramref name="holderId"/> is empty, white space, or names a permit being handed to a waiter.</exception>
    /// <exception cref="NotSupportedException">The manager has several independent nodes (Redlock), where semaphores are not supported.</exception>
    /// <exception cref="LockBackendException">The node did not answer.</exception>
    Task<int> ForceReleaseSemaphoreAsync(string resource, string? holderId = null, CancellationToken cancellationToken = default);
}
