namespace DistLock;

/// <summary>
/// Hands out distributed locks; what application code depends on, so that it can be injected
/// (<c>services.AddDistLock(...)</c>) and replaced in tests. <see cref="RedisLockManager"/> is
/// the implementation over Redis.
/// </summary>
public interface ILockManager : IAsyncDisposable
{
    /// <summary>Waits until the lock on <paramref name="resource"/> is acquired.</summary>
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
    /// other readers, never with the writer (or exclusive holder) of the resource. Once a writer
    /// waits, new readers queue behind it. A read lock cannot be upgraded to a write lock.
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
    /// Waits until the write lock on <paramref name="resource"/> is acquired: held alone, with no
    /// reader. It is the same lock as <see cref="AcquireAsync(string, TimeSpan?, CancellationToken)"/>
    /// takes; only <see cref="LockHandle.Mode"/> tells them apart.
    /// </summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses the default wait timeout; infinite waits forever.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held write lock (<see cref="LockHandle.Mode"/> is <see cref="LockMode.Write"/>).</returns>
    /// <exception cref="LockTimeoutException">Still held by readers or another writer at the timeout.</exception>
    /// <exception cref="LockBackendException">The lock service could not be reached.</exception>
    Task<LockHandle> AcquireWriteAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits until the write lock is acquired, with per-call TTL, id, timeout or automatic extension.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held write lock.</returns>
    Task<LockHandle> AcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire the write lock; null when readers or another writer hold it (zero timeout: one attempt).</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held write lock, or null.</returns>
    Task<LockHandle?> TryAcquireWriteAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>Tries to acquire the write lock with per-call TTL, id, timeout or automatic extension.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held write lock, or null.</returns>
    Task<LockHandle?> TryAcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default);

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
}
