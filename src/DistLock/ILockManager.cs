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
