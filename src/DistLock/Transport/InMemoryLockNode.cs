using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>
/// A lock node inside this process, with the same rules as the Redis scripts: keys with a time to
/// live on the manager's <see cref="TimeProvider"/>, a line of waiters, a reservation for the
/// waiter a release wakes (moved back and marked until it shows life, with a standby notice to the
/// next), and a fencing counter per key with a clock floor, forgotten after an idle period. Backs
/// <see cref="InMemoryLockManager"/>. Expired entries are swept as the tables grow, so memory
/// follows the locks used recently.
/// </summary>
internal sealed partial class InMemoryLockNode : ILockNode
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _handoffGrace;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string Value, long ExpiresAt)> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Waiter>> _lines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Token, long ExpiresAt)> _fences = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Action<string?>> _listeners = new(StringComparer.Ordinal);
    private readonly TimeSpan _idleExpiry;
    private int _sweepAt = MinSweep;
    private long _nextSweep;

    private const int MinSweep = 1024;

    public InMemoryLockNode(TimeProvider time, TimeSpan handoffGrace, TimeSpan? idleExpiry = null)
    {
        _time = time;
        _handoffGrace = handoffGrace;
        _idleExpiry = idleExpiry ?? LockOptions.DefaultIdleExpiry;
    }

    /// <summary>Keys, lines and counters held now, expired ones not yet swept included (for tests).</summary>
    public int Entries
    {
        get
        {
            lock (_gate)
            {
                return _keys.Count + _lines.Count + _fences.Count + _readers.Count + _admitted.Count + _semaphores.Count;
            }
        }
    }

    public string Name => "in-memory";

    public void EnsureCompatible()
    {
    }

    public Task<NodeResult> TryAcquireAsync(LockTarget target, string id, TimeSpan ttl, string waiterId) => target.Mode switch
    {
        LockMode.Read => TryAcquireRead(target.Key, id, ttl, waiterId),
        LockMode.Semaphore => TryAcquireSemaphore(target, id, ttl, waiterId),
        _ => TryAcquireExclusive(target.Key, id, ttl, waiterId),
    };

    public Task<NodeResult> ExtendAsync(LockTarget target, string id, TimeSpan ttl) => target.Mode switch
    {
        LockMode.Read => ExtendRead(target.Key, id, ttl),
        LockMode.Semaphore => ExtendSemaphore(target, id, ttl),
        _ => ExtendExclusive(target.Key, id, ttl),
    };

    public Task<NodeResult> ReleaseAsync(LockTarget target, string id, string notice) => target.Mode switch
    {
        LockMode.Read => ReleaseRead(target.Key, id, notice),
        LockMode.Semaphore => ReleaseSemaphore(target, id, notice),
        _ => ReleaseExclusive(target.Key, id, notice),
    };

    public Task PassOnAsync(LockTarget target, string waiterId, string notice) =>
        target.Mode == LockMode.Semaphore ? PassOnSemaphore(target, waiterId, notice) : PassOnLock(target.Key, waiterId, notice);

    private Task<NodeResult> TryAcquireExclusive(string key, string id, TimeSpan ttl, string waiterId)
    {
        lock (_gate)
        {
            SweepWhenGrown();
            var current = Current(key);
            var reservedForUs = waiterId.Length > 0 && current == LockKeyLayout.ReservedPrefix + waiterId;
            if (current is null || reservedForUs)
            {
                _keys[key] = (id, Expiry(ttl));
                Leave(key, waiterId);
                return Task.FromResult(NodeResult.GrantedWith(NextFence(key)));
            }

            JoinLine(key, waiterId);
            return Task.FromResult(NodeResult.Refused(_time.GetElapsedTime(_time.GetTimestamp(), _keys[key].ExpiresAt)));
        }
    }

    public Task<NodeResult> RaiseFenceAsync(string key, long token)
    {
        lock (_gate)
        {
            if (Fence(key) < token)
            {
                _fences[key] = (token, Expiry(_idleExpiry));
            }

            return Task.FromResult(NodeResult.Granted);
        }
    }

    private Task<NodeResult> ExtendExclusive(string key, string id, TimeSpan ttl)
    {
        lock (_gate)
        {
            if (Current(key) != id)
            {
                return Task.FromResult(NodeResult.Denied);
            }

            _keys[key] = (id, Expiry(ttl));
            return Task.FromResult(NodeResult.Granted);
        }
    }

    private Task<NodeResult> ReleaseExclusive(string key, string id, string notice)
    {
        Action? wake;
        lock (_gate)
        {
            if (Current(key) != id)
            {
                return Task.FromResult(NodeResult.Denied);
            }

            _keys.Remove(key);
            wake = WakeNext(key, notice);
        }

        wake?.Invoke();
        return Task.FromResult(NodeResult.Granted);
    }

    private Task PassOnLock(string key, string waiterId, string notice)
    {
        Action? wake = null;
        lock (_gate)
        {
            Leave(key, waiterId);
            if (Current(key) == LockKeyLayout.ReservedPrefix + waiterId)
            {
                _keys.Remove(key);
            }

            if (Current(key) is null)
            {
                wake = WakeNext(key, notice);
            }
            else
            {
                wake = LetInReadersAtTheHead(key, notice);
            }
        }

        wake?.Invoke();
        return Task.CompletedTask;
    }

    /// <summary>
    /// While readers hold: readers first in line, who waited only behind a writer that left (or
    /// died), may join them now (see pass-on.lua); the marker keeps its expiry. Null when readers
    /// do not hold, or the head of the line is not a reader still waiting.
    /// </summary>
    private Action? LetInReadersAtTheHead(string key, string notice)
    {
        if (Current(key) != LockKeyLayout.ReadersMarker || !_lines.TryGetValue(key, out var line)
            || line.Count == 0 || line[0].Marked || !IsReader(line[0].Id))
        {
            return null;
        }

        var held = _keys[key];
        var wake = WakeNext(key, notice);
        _keys[key] = (LockKeyLayout.ReadersMarker, Math.Max(held.ExpiresAt, _keys[key].ExpiresAt));
        return wake;
    }

    public Task<INodeSubscription> SubscribeAsync(string key, string waiterId, Action<string?> onWake)
    {
        var channel = LockKeyLayout.WakeChannel(key, waiterId);
        lock (_gate)
        {
            _listeners[channel] = onWake;
        }

        return Task.FromResult<INodeSubscription>(new Subscription(this, channel));
    }

    /// <summary>
    /// Picks the first waiter in line that still listens, reserves the lock for it, moves it to the
    /// end of the line marked, and gives the next unmarked waiter a standby notice; a marked waiter
    /// that reaches the head again is dropped. A reader picked first brings every reader behind it
    /// up to the next writer, each marked in place, and that writer gets the standby (the rules of
    /// wake-next.lua). Returns the wakes to deliver once the gate is released (a waiter's handler
    /// may call back into the node). <paramref name="reserve"/> is what the woken waiter gets for
    /// the grace (the lock by default; a semaphore passes its own, as its scripts include
    /// reserve-permit.lua instead of reserve-lock.lua).
    /// </summary>
    private Action? WakeNext(string key, string notice, Action<InMemoryLockNode, string, string>? reserve = null)
    {
        var line = Line(key);
        var woken = new List<Action<string?>>();
        string? wokenWriter = null;
        var readers = false;
        Action<string?>? standby = null;
        var index = 0;
        while (index < line.Count && line[index].Id != wokenWriter)
        {
            var waiter = line[index];
            var listener = _listeners.GetValueOrDefault(LockKeyLayout.WakeChannel(key, waiter.Id));
            if (waiter.Marked)
            {
                if (woken.Count == 0)
                {
                    line.RemoveAt(index);
                }
                else if (readers && !IsReader(waiter.Id))
                {
                    break;
                }
                else
                {
                    index++;
                }
            }
            else if (listener is null)
            {
                line.RemoveAt(index);
            }
            else if (woken.Count == 0 || (readers && IsReader(waiter.Id)))
            {
                woken.Add(listener);
                if (IsReader(waiter.Id))
                {
                    readers = true;
                    _keys[key] = (LockKeyLayout.ReadersMarker, Expiry(_handoffGrace));
                    line[index++] = waiter with { Marked = true };
                }
                else
                {
                    if (reserve is null)
                    {
                        _keys[key] = (LockKeyLayout.ReservedPrefix + waiter.Id, Expiry(_handoffGrace));
                    }
                    else
                    {
                        reserve(this, key, waiter.Id);
                    }

                    line.RemoveAt(index);
                    line.Add(waiter with { Marked = true });
                    wokenWriter = waiter.Id;
                }
            }
            else
            {
                standby = listener;
                break;
            }
        }

        if (line.Count == 0)
        {
            _lines.Remove(key);
        }

        if (woken.Count == 0)
        {
            return null;
        }

        return () =>
        {
            foreach (var listener in woken)
            {
                Notify(listener, notice);
            }

            if (standby is not null)
            {
                Notify(standby, ReleaseNotice.Standby(notice));
            }
        };
    }

    /// <summary>Delivers <paramref name="notice"/> on the thread pool, as pub/sub would: never on the caller's stack.</summary>
    private static void Notify(Action<string?> listener, string notice) =>
        ThreadPool.QueueUserWorkItem(static s => s.listener(s.notice), (listener, notice), preferLocal: false);

    private static bool IsReader(string waiterId) => waiterId.StartsWith(LockTarget.ReaderWaiterPrefix, StringComparison.Ordinal);

    /// <summary>The next fencing token: the counter plus one, or the clock in microseconds when higher (next-fence.lua).</summary>
    private long NextFence(string key)
    {
        var token = Math.Max(Fence(key) + 1, (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond);
        _fences[key] = (token, Expiry(_idleExpiry));
        return token;
    }

    private long Fence(string key)
    {
        if (_fences.TryGetValue(key, out var fence))
        {
            if (_time.GetTimestamp() < fence.ExpiresAt)
            {
                return fence.Token;
            }

            _fences.Remove(key);
        }

        return 0;
    }

    /// <summary>
    /// Drops expired keys and counters, and lines nobody holds a lock for, when the tables have
    /// doubled since the last sweep (amortized constant work per acquisition), and at least once
    /// per idle period, so what is kept follows the locks used recently.
    /// </summary>
    private void SweepWhenGrown()
    {
        var now = _time.GetTimestamp();
        if (_keys.Count + _fences.Count + _lines.Count + _semaphores.Count < _sweepAt && now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + _time.Ticks(_idleExpiry);
        foreach (var (key, entry) in _keys)
        {
            if (entry.ExpiresAt <= now)
            {
                _keys.Remove(key);
            }
        }

        foreach (var (key, fence) in _fences)
        {
            if (fence.ExpiresAt <= now)
            {
                _fences.Remove(key);
            }
        }

        SweepSemaphores();
        foreach (var key in _lines.Keys)
        {
            if (!_keys.ContainsKey(key) && !_semaphores.ContainsKey(key))
            {
                _lines.Remove(key);
            }
        }

        foreach (var key in _readers.Keys)
        {
            if (!_keys.TryGetValue(key, out var entry) || entry.Value != LockKeyLayout.ReadersMarker)
            {
                _readers.Remove(key);
            }
        }

        foreach (var (key, admitted) in _admitted)
        {
            if (admitted.Values.All(until => until <= now))
            {
                _admitted.Remove(key);
            }
        }

        _sweepAt = Math.Max(MinSweep, 2 * (_keys.Count + _fences.Count + _lines.Count + _semaphores.Count));
    }

    private string? Current(string key)
    {
        if (_keys.TryGetValue(key, out var entry))
        {
            if (_time.GetTimestamp() < entry.ExpiresAt)
            {
                return entry.Value;
            }

            _keys.Remove(key);
        }

        return null;
    }

    private long Expiry(TimeSpan ttl) => _time.GetTimestamp() + _time.Ticks(ttl);

    /// <summary>Keeps (or takes) a waiter's place in line after a refusal (join-line.lua); "" is no waiter.</summary>
    private void JoinLine(string key, string waiterId)
    {
        if (waiterId.Length == 0)
        {
            return;
        }

        var line = Line(key);
        var place = line.FindIndex(w => w.Id == waiterId);
        if (place < 0)
        {
            line.Add(new Waiter(waiterId));
        }
        else
        {
            // Alive after all (see WakeNext): unmarked, it keeps its place.
            line[place] = line[place] with { Marked = false };
        }
    }

    /// <summary>Takes a waiter out of the line, and drops a line that is left empty (locks come and go).</summary>
    private void Leave(string key, string waiterId)
    {
        if (_lines.TryGetValue(key, out var line) && line.RemoveAll(w => w.Id == waiterId) > 0 && line.Count == 0)
        {
            _lines.Remove(key);
        }
    }

    private List<Waiter> Line(string key)
    {
        if (!_lines.TryGetValue(key, out var line))
        {
            line = _lines[key] = [];
        }

        return line;
    }

    /// <summary>A place in a line; <paramref name="Marked"/>: woken, not claimed, and not seen since.</summary>
    private readonly record struct Waiter(string Id, bool Marked = false);

    private sealed class Subscription(InMemoryLockNode node, string channel) : INodeSubscription
    {
        public bool IsActive => true;

        public ValueTask DisposeAsync()
        {
            lock (node._gate)
            {
                node._listeners.Remove(channel);
            }

            return ValueTask.CompletedTask;
        }
    }
}
