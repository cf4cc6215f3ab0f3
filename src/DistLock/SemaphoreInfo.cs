namespace DistLock;

/// <summary>
/// A semaphore as its manager's node has it now, for tools, dashboards and tests
/// (<see cref="ILockManager.InspectSemaphoreAsync"/>).
/// </summary>
/// <param name="Resource">The semaphore's name.</param>
/// <param name="Key">Its key: a sorted set of holders, <c>{prefix}{{resource}}:semaphore</c>.</param>
/// <param name="MaxCount">The limit its live holders took it with; 0 when it has none (the next caller's maxCount will be the limit).</param>
/// <param name="Holders">The live holders, soonest to expire first.</param>
/// <param name="HandingOver">Permits a release has reserved for the waiters it woke (they count against <paramref name="MaxCount"/> until claimed, or for the handoff grace).</param>
/// <param name="Waiters">How many waiting processes are in the semaphore's line.</param>
/// <param name="LastFencingToken">The last fencing token issued for the semaphore (on demand, by <see cref="LockHandle.GetFencingTokenAsync"/>); 0 when none was.</param>
public sealed record SemaphoreInfo(
    string Resource,
    string Key,
    int MaxCount,
    IReadOnlyList<LockHolder> Holders,
    int HandingOver,
    int Waiters,
    long LastFencingToken)
{
    /// <summary>
    /// Permits nobody holds and no waiter has been promised: what a caller with the same maxCount
    /// would get at once. 0 for a semaphore nobody holds or waits for: it has no limit then
    /// (<see cref="MaxCount"/> is 0), and the next caller's maxCount sets it.
    /// </summary>
    public int FreePermits => Math.Max(0, MaxCount - Holders.Count - HandingOver);

    /// <summary>Builds the record from a node's entries (holders' ids and reservations, with their time left).</summary>
    internal static SemaphoreInfo From(string resource, string key, int maxCount, IEnumerable<(string Id, TimeSpan Remaining)> entries, int waiters, long fence)
    {
        var holders = new List<LockHolder>();
        var handingOver = 0;
        foreach (var (id, remaining) in entries.OrderBy(e => e.Remaining))
        {
            if (id.StartsWith(Transport.LockKeyLayout.ReservedPrefix, StringComparison.Ordinal))
            {
                handingOver++;
            }
            else
            {
                holders.Add(new LockHolder(id, remaining));
            }
        }

        return new SemaphoreInfo(resource, key, maxCount, holders, handingOver, waiters, fence);
    }
}
