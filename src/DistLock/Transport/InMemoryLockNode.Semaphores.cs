using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>
/// Semaphores in process, with the rules of the semaphore scripts (permits.lua and the scripts
/// that include it): entries with a lease on the manager's clock, reservations among them, a limit
/// kept while any entry is live.
/// </summary>
internal sealed partial class InMemoryLockNode
{
    private readonly Dictionary<string, Permits> _semaphores = new(StringComparer.Ordinal);

    private Task<NodeResult> TryAcquireSemaphore(LockTarget target, string id, TimeSpan ttl, string waiterId)
    {
        var key = target.Key;
        lock (_gate)
        {
            SweepWhenGrown();
            var permits = LivePermits(key);
            if (permits is not null && permits.Limit != 0 && permits.Limit != target.MaxCount)
            {
                return Task.FromResult(NodeResult.Rejected(SemaphoreLimit.Mismatch(key, target.MaxCount, permits.Limit)));
            }

            // An id holds at most one permit (see acquire-semaphore.lua), a reserved one included.
            var reservedForUs = waiterId.Length > 0 && permits is not null && !permits.Entries.ContainsKey(id)
                && permits.Entries.Remove(LockKeyLayout.ReservedPrefix + waiterId);
            if (reservedForUs || permits is null || (permits.Entries.Count < target.MaxCount && !permits.Entries.ContainsKey(id)))
            {
                permits ??= _semaphores[key] = new Permits();
                permits.Limit = target.MaxCount;
                permits.Entries[id] = Expiry(ttl);
                Leave(key, waiterId);
                return Task.FromResult(NodeResult.GrantedWith(NextFence(key)));
            }

            if (waiterId.Length > 0)
            {
                JoinLine(key, waiterId);
            }

            var firstExpiry = permits.Entries.Values.Min();
            return Task.FromResult(NodeResult.Refused(_time.GetElapsedTime(_time.GetTimestamp(), firstExpiry)));
        }
    }

    private Task<NodeResult> ExtendSemaphore(LockTarget target, string id, TimeSpan ttl)
    {
        lock (_gate)
        {
            if (LivePermits(target.Key) is not { } permits || !permits.Entries.ContainsKey(id))
            {
                return Task.FromResult(NodeResult.Denied);
            }

            permits.Entries[id] = Expiry(ttl);
            return Task.FromResult(NodeResult.Granted);
        }
    }

    private Task<NodeResult> ReleaseSemaphore(LockTarget target, string id, string notice)
    {
        Action? wake;
        lock (_gate)
        {
            if (LivePermits(target.Key) is not { } permits || !permits.Entries.Remove(id))
            {
                return Task.FromResult(NodeResult.Denied);
            }

            // Entries stay within the limit (see release-semaphore.lua): the permit just freed is free.
            wake = WakeNext(target.Key, notice, reserve: ReservePermit);
            DropWhenEmpty(target.Key, permits);
        }

        wake?.Invoke();
        return Task.FromResult(NodeResult.Granted);
    }

    private Task PassOnSemaphore(LockTarget target, string waiterId, string notice)
    {
        Action? wake = null;
        var key = target.Key;
        lock (_gate)
        {
            Leave(key, waiterId);
            var permits = LivePermits(key);
            permits?.Entries.Remove(LockKeyLayout.ReservedPrefix + waiterId);
            if (permits is null || permits.Limit == 0 || permits.Entries.Count < permits.Limit)
            {
                wake = WakeNext(key, notice, reserve: ReservePermit);
            }

            if (permits is not null)
            {
                DropWhenEmpty(key, permits);
            }
        }

        wake?.Invoke();
        return Task.CompletedTask;
    }

    /// <summary>The semaphore's state: limit (0 when it has no entry), live entries with their time left, waiters, fencing counter (for tests).</summary>
    public (int Limit, IReadOnlyList<(string Id, TimeSpan Remaining)> Entries, int Waiters, long Fence) InspectSemaphore(string key)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var permits = LivePermits(key);
            var entries = permits?.Entries.Select(e => (e.Key, _time.GetElapsedTime(now, e.Value))).ToList() ?? [];
            return (permits?.Limit ?? 0, entries, _lines.GetValueOrDefault(key)?.Count ?? 0, Fence(key));
        }
    }

    /// <summary>
    /// What wake-next's reserve(id) does for a semaphore (reserve-permit.lua): a reserved entry for
    /// the grace. A pass-on can reserve for a semaphore with no live entry, whose limit is then
    /// unknown (0) until the woken waiter claims it with its maxCount.
    /// </summary>
    private static void ReservePermit(InMemoryLockNode node, string key, string waiterId)
    {
        if (!node._semaphores.TryGetValue(key, out var permits))
        {
            permits = node._semaphores[key] = new Permits();
        }

        permits.Entries[LockKeyLayout.ReservedPrefix + waiterId] = node.Expiry(node._handoffGrace);
    }

    /// <summary>The semaphore with its expired entries dropped (prune in permits.lua); null when none is left.</summary>
    private Permits? LivePermits(string key)
    {
        if (!_semaphores.TryGetValue(key, out var permits))
        {
            return null;
        }

        var now = _time.GetTimestamp();
        foreach (var (id, expiresAt) in permits.Entries)
        {
            if (expiresAt <= now)
            {
                permits.Entries.Remove(id);
            }
        }

        return DropWhenEmpty(key, permits) ? null : permits;
    }

    /// <summary>Forgets a semaphore without entries, and its limit with it: the next caller's maxCount wins.</summary>
    private bool DropWhenEmpty(string key, Permits permits) => permits.Entries.Count == 0 && _semaphores.Remove(key);

    /// <summary>Drops expired entries and semaphores left without any (called by the sweep).</summary>
    private void SweepSemaphores()
    {
        foreach (var key in _semaphores.Keys)
        {
            LivePermits(key);
        }
    }

    /// <summary>A semaphore's live entries (holders' ids and reservations, with their expiry timestamps) and its limit (0: not known yet).</summary>
    private sealed class Permits
    {
        public int Limit { get; set; }

        public Dictionary<string, long> Entries { get; } = new(StringComparer.Ordinal);
    }
}
