namespace DistLock;

/// <summary>
/// A lock as Redis has it now, for tools and dashboards (<see cref="RedisLockManager.InspectAsync"/>).
/// In Redlock mode each field summarizes the nodes: the value held by the most of them, the
/// shortest remaining TTL among those, the highest fencing counter and the longest line.
/// </summary>
/// <param name="Resource">The resource name.</param>
/// <param name="Key">The lock key.</param>
/// <param name="HolderId">The lock value (the holder's <see cref="LockHandle.Id"/>), or null when the lock is free or held by readers (see <see cref="Readers"/>).</param>
/// <param name="HandingOver">True when a release has reserved the lock for the waiter (or the readers) it woke.</param>
/// <param name="RemainingTtl">How long the key lives unless extended; null when free (or without expiry).</param>
/// <param name="FencingCounter">The last fencing token issued for the resource; 0 when none was.</param>
/// <param name="Waiters">How many waiting processes are in the lock's line.</param>
/// <param name="NodesHolding">On how many nodes <paramref name="HolderId"/> holds the key.</param>
public sealed record LockInfo(
    string Resource,
    string Key,
    string? HolderId,
    bool HandingOver,
    TimeSpan? RemainingTtl,
    long FencingCounter,
    int Waiters,
    int NodesHolding)
{
    /// <summary>
    /// Who holds the lock, when its holder's manager had <see cref="LockOptions.HolderLabel"/> set
    /// (the label is carried in the lock value); null otherwise, or when the lock is free.
    /// </summary>
    public string? HolderLabel => HandingOver ? null : HolderValue.Parse(HolderId).Label;

    /// <summary>When the holder acquired the lock (its clock), with the same condition as <see cref="HolderLabel"/>.</summary>
    public DateTimeOffset? HeldSince => HandingOver ? null : HolderValue.Parse(HolderId).Since;

    /// <summary>The readers holding the lock, the first to run out first; empty unless it is read-locked.</summary>
    public IReadOnlyList<LockReader> Readers { get; init; } = [];
}
