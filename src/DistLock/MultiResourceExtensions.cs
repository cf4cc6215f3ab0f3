namespace DistLock;

/// <summary>
/// Several resources at once: all of them or none, in one <see cref="LockHandle"/>, on any
/// <see cref="ILockManager"/>. Two callers whose sets overlap never deadlock, whatever order they
/// name the resources in, and waiters are served in arrival order on every resource
/// (docs/design.md, "Several resources at once").
/// </summary>
/// <example>
/// <code>
/// await using (var both = await locks.AcquireAllAsync(["account:17", "account:42"]))
/// {
///     // Move money from one to the other: nobody else holds either meanwhile.
/// }
/// </code>
/// </example>
public static class MultiResourceExtensions
{
    /// <summary>
    /// Waits until every one of <paramref name="resources"/> is taken, as exclusive locks held together
    /// under one holder id; if the wait ends first, none stays taken.
    /// </summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resources">The names, 1 to <see cref="LockRequest.MaxResources"/>; duplicates count once, the order does not matter.</param>
    /// <param name="timeout">How long to wait; null uses the manager's <see cref="AcquireOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>One handle for the whole set (<see cref="LockHandle.Resources"/> lists it).</returns>
    /// <exception cref="ArgumentException">The set is empty or too large, an entry is null, or a name is invalid.</exception>
    /// <exception cref="LockTimeoutException">The set was not free within the timeout.</exception>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) could not be reached.</exception>
    public static Task<LockHandle> AcquireAllAsync(this ILockManager locks, IEnumerable<string> resources, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        NotNull(locks).AcquireAsync(LockRequest.ForAll(resources, timeout), cancellationToken);

    /// <summary>The request form of <see cref="AcquireAllAsync(ILockManager, IEnumerable{string}, TimeSpan?, CancellationToken)"/>: a request made with <see cref="LockRequest(IEnumerable{string})"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="request">The set and the per-call settings.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>One handle for the whole set.</returns>
    public static Task<LockHandle> AcquireAllAsync(this ILockManager locks, LockRequest request, CancellationToken cancellationToken = default) =>
        NotNull(locks).AcquireAsync(request, cancellationToken);

    /// <summary>
    /// Tries to take every one of <paramref name="resources"/> together; null when they are not all
    /// free within <paramref name="timeout"/> (then none stays taken).
    /// </summary>
    /// <param name="locks">The manager.</param>
    /// <param name="resources">The names, 1 to <see cref="LockRequest.MaxResources"/>; duplicates count once, the order does not matter.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>One handle for the whole set, or null.</returns>
    /// <exception cref="ArgumentException">The set is empty or too large, an entry is null, or a name is invalid.</exception>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) could not be reached.</exception>
    public static Task<LockHandle?> TryAcquireAllAsync(this ILockManager locks, IEnumerable<string> resources, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        NotNull(locks).TryAcquireAsync(LockRequest.ForAll(resources, timeout), cancellationToken);

    /// <summary>The request form of <see cref="TryAcquireAllAsync(ILockManager, IEnumerable{string}, TimeSpan, CancellationToken)"/>: a request made with <see cref="LockRequest(IEnumerable{string})"/>.</summary>
    /// <param name="locks">The manager.</param>
    /// <param name="request">The set and the per-call settings; its <see cref="LockRequest.Timeout"/> (zero when unset) bounds the wait.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>One handle for the whole set, or null.</returns>
    public static Task<LockHandle?> TryAcquireAllAsync(this ILockManager locks, LockRequest request, CancellationToken cancellationToken = default) =>
        NotNull(locks).TryAcquireAsync(request, cancellationToken);

    private static ILockManager NotNull(ILockManager locks)
    {
        ArgumentNullException.ThrowIfNull(locks);
        return locks;
    }
}
