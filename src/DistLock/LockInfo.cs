namespace DistLock;

/// <summary>
/// A lock as its manager's nodes have it now, for tools, dashboards and tests (<see cref="ILockManager.InspectAsync"/>).
/// In Redlock mode each field summarizes the nodes: the value held by the most of them, the
/// shortest remaining TTL among those, the highest last token and the longest line.
/// </summary>
/// <param name="Resource">The resource name.</param>
/// <param name="Key">The lock key.</param>
/// <param name="HolderId">The holder's id (its <see cref="LockHandle.HolderId"/>), or null when the lock is free, being handed over (see <paramref name="HandingOver"/>), or held by readers (see <see cref="Readers"/>).</param>
/// <param name="HandingOver">Turns a release has reserved for the waiters it woke: 1 while the lock waits for the waiter (or the readers) it woke to claim it, else 0.</param>
/// <param name="RemainingTtl">How long the hold lasts unless extended (over several nodes, until fewer than a majority keep the key); null when free (or without expiry).</param>
/// <param name="LastFencingToken">The last fencing token issued for the resource (tokens are issued on demand, by <see cref="LockHandle.GetFencingTokenAsync"/>): the current holder's when it asked for one; 0 when none was.</param>
/// <param name="Waiters">How many waiting processes are in the lock's line.</param>
/// <param name="NodesHolding">On how many nodes <paramref name="HolderId"/> holds the key.</param>
public sealed record LockInfo(
    string Resource,
    string Key,
    string? HolderId,
    int HandingOver,
    TimeSpan? RemainingTtl,
    long LastFencingToken,
    int Waiters,
    int NodesHolding)
{
    /// <summary>
    /// Who holds the lock, when its holder's manager had <see cref="AcquireOptions.HolderLabel"/> set
    /// (the label is carried in the lock value); null otherwise, or when the lock is free.
    /// </summary>
    public string? HolderLabel => HandingOver > 0 ? null : HolderValue.Parse(HolderId).Label;

    /// <summary>
    /// When the holder began acquiring the lock (its clock), with the same condition as
    /// <see cref="HolderLabel"/>: the time is written into the holder id when the acquisition starts,
    /// so for a holder that waited in line it is the start of its wait, not the grant.
    /// </summary>
    public DateTimeOffset? HeldSince => HandingOver > 0 ? null : HolderValue.Parse(HolderId).Since;

    /// <summary>The readers holding the lock, the first to run out first; empty unless it is read-locked.</summary>
    public IReadOnlyList<LockHolder> Readers { get; init; } = [];
}
