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
    /// Takes the key if it is free, and answers with the node's next fencing token. A
    /// <paramref name="waiterId"/> other than "" keeps (or takes) a place in the lock's line of
    /// waiters when the key is held, and leaves the line when taken.
    /// </summary>
    Task<NodeResult> TryAcquireAsync(string key, string id, TimeSpan ttl, string waiterId);

    /// <summary>Raises the node's fencing counter for <paramref name="key"/> to at least <paramref name="token"/>.</summary>
    Task<NodeResult> RaiseFenceAsync(string key, long token);

    Task<NodeResult> ExtendAsync(string key, string id, TimeSpan ttl);

    /// <summary>Deletes the key if it holds <paramref name="id"/>, then wakes the first live waiter with <paramref name="notice"/>.</summary>
    Task<NodeResult> ReleaseAsync(string key, string id, string notice);

    /// <summary>
    /// Listens for wakes of the waiter <paramref name="waiterId"/>: <paramref name="onWake"/> gets
    /// the release's notice, or null when a wake may have been missed (the connection dropped or
    /// was restored).
    /// </summary>
    Task<INodeSubscription> SubscribeAsync(string key, string waiterId, Action<string?> onWake);

    /// <summary>Leaves the line of waiters; if the lock is free, wakes the next waiter instead.</summary>
    Task PassOnAsync(string key, string waiterId, string notice);
}
