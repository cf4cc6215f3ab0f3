namespace DistLock;

/// <summary>
/// Blocking forms of the acquire calls, for code that cannot await (a constructor, a synchronous
/// interface): each blocks the calling thread until its async form completes, on any
/// <see cref="ILockManager"/>. Prefer the async forms, which never hold a thread while they wait.
/// </summary>
public static class LockManagerExtensions
{
    /// <summary>Blocking form of <see cref="ILockManager.AcquireAsync(string, TimeSpan?, CancellationToken)"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses the manager's <see cref="AcquireOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock.</returns>
    public static LockHandle Acquire(this ILockManager locks, string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        NotNull(locks).AcquireAsync(resource, timeout, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="ILockManager.TryAcquireAsync(string, TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock, or null when it is held by someone else.</returns>
    public static LockHandle? TryAcquire(this ILockManager locks, string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        NotNull(locks).TryAcquireAsync(resource, timeout, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="ILockManager.AcquireReadAsync(string, TimeSpan?, CancellationToken)"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses the manager's <see cref="AcquireOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held read lock.</returns>
    public static LockHandle AcquireRead(this ILockManager locks, string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        NotNull(locks).AcquireReadAsync(resource, timeout, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="ILockManager.TryAcquireReadAsync(string, TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held read lock, or null.</returns>
    public static LockHandle? TryAcquireRead(this ILockManager locks, string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        NotNull(locks).TryAcquireReadAsync(resource, timeout, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="ILockManager.AcquireSemaphoreAsync(string, int, TimeSpan?, CancellationToken)"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resource">The name of the semaphore.</param>
    /// <param name="maxCount">How many may hold the semaphore at once.</param>
    /// <param name="timeout">How long to wait; null uses the manager's <see cref="AcquireOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays held.</param>
    /// <returns>The held permit.</returns>
    public static LockHandle AcquireSemaphore(this ILockManager locks, string resource, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        NotNull(locks).AcquireSemaphoreAsync(resource, maxCount, timeout, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="ILockManager.TryAcquireSemaphoreAsync(string, int, TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resource">The name of the semaphore.</param>
    /// <param name="maxCount">How many may hold the semaphore at once.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays held.</param>
    /// <returns>The held permit, or null.</returns>
    public static LockHandle? TryAcquireSemaphore(this ILockManager locks, string resource, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        NotNull(locks).TryAcquireSemaphoreAsync(resource, maxCount, timeout, cancellationToken).GetAwaiter().GetResult();

    private static ILockManager NotNull(ILockManager locks)
    {
        ArgumentNullException.ThrowIfNull(locks);
        return locks;
    }
}
