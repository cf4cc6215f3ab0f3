namespace DistLock.Algorithm;

/// <summary>
/// One independent Redis deployment taking part in a lock (a single server, a Sentinel-managed
/// master or a whole cluster). The algorithm talks to nodes only through this interface.
/// Implementations report a refusal as <see cref="NodeReply.Denied"/> and let transport errors
/// surface as exceptions; the caller bounds every call with its own timeout.
/// </summary>
internal interface ILockNode
{
    /// <summary>A name for messages and logs (the endpoints).</summary>
    string Name { get; }

    /// <summary>
    /// Throws a <see cref="DistLockException"/> when the node can never serve locks (a server too
    /// old); called before every acquire and extend, so it must be cheap once it has passed.
    /// </summary>
    void EnsureCompatible();

    /// <summary>
    /// Takes the lock in the target's mode if it can, and answers with the node's next fencing
    /// token. A <paramref name="waiterId"/> other than "" keeps (or takes) a place in the line of
    /// waiters when refused, and leaves the line when taken.
    /// </summary>
    Task<NodeResult> TryAcquireAsync(LockTarget target, string id, TimeSpan ttl, string waiterId);

    /// <summary>Raises the node's fencing counter for <paramref name="key"/> to at least <paramref name="token"/>.</summary>
    Task<NodeResult> RaiseFenceAsync(string key, long token);

    /// <summary>Resets the time to live of the hold <paramref name="id"/>, only while it is still held.</summary>
    Task<NodeResult> ExtendAsync(LockTarget target, string id, TimeSpan ttl);

    /// <summary>Ends the hold <paramref name="id"/> if it is still held, then wakes the waiters it frees room for with <paramref name="notice"/>.</summary>
    Task<NodeResult> ReleaseAsync(LockTarget target, string id, string notice);

    /// <summary>
    /// Listens for wakes of the waiter <paramref name="waiterId"/>: <paramref name="onWake"/> gets
    /// the release's notice, or null when a wake may have been missed (the connection dropped or
    /// was restored).
    /// </summary>
    Task<INodeSubscription> SubscribeAsync(string key, string waiterId, Action<string?> onWake);

    /// <summary>Leaves the line of waiters; if the lock is free, wakes the next waiter instead.</summary>
    Task PassOnAsync(LockTarget target, string waiterId, string notice);
}
