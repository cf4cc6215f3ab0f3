namespace DistLock.Algorithm;

/// <summary>
/// One independent Redis deployment taking part in a lock (a single server, a Sentinel-managed
/// master or a whole cluster), or the in-process node. The algorithm reaches a node only through a
/// <see cref="Hold"/>, which knows what to ask it for its kind of hold.
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
    /// Whether the node's last call went unanswered for the node timeout (kept by
    /// <see cref="NodeCallDeadlines"/>, which sees every call): a split round does not wait for such
    /// a node (see <see cref="QuorumRound.RunAsync"/>).
    /// </summary>
    bool Silent { get; set; }
}
