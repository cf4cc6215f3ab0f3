namespace DistLock.Transport;

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

    Task<NodeResult> TryAcquireAsync(string key, string value, TimeSpan ttl);

    Task<NodeResult> ExtendAsync(string key, string value, TimeSpan ttl);

    /// <summary>Deletes the key if it holds <paramref name="value"/>, and then publishes <paramref name="notice"/>.</summary>
    Task<NodeResult> ReleaseAsync(string key, string value, string notice);

    /// <summary>
    /// Listens for releases of <paramref name="key"/>: <paramref name="onReleased"/> gets the
    /// release's notice, or null when a release may have been missed (the connection dropped or
    /// was restored).
    /// </summary>
    Task<INodeSubscription> SubscribeAsync(string key, Action<string?> onReleased);
}
