namespace DistLock.Transport;

/// <summary>Looking into the in-process node, and one hook for tests; no rule lives here.</summary>
internal sealed partial class InMemoryLockNode
{
    /// <summary>What <paramref name="key"/> holds now (a holder's value, a reservation or the readers' marker), its fencing counter, and how many wait in its line.</summary>
    internal (string? Value, long Fence, int Waiters) Peek(string key)
    {
        lock (_gate)
        {
            return (Current(key), Fence(key), _lines.TryGetValue(key, out var line) ? line.Count : 0);
        }
    }

    /// <summary>For tests only: sets the fencing counter of <paramref name="key"/>, as a node restored from an old snapshot would have it.</summary>
    internal void SetFence(string key, long token)
    {
        lock (_gate)
        {
            _fences[key] = (token, Expiry(_idleExpiry));
        }
    }
}
