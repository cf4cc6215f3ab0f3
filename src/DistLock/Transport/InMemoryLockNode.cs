using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>
/// A lock node inside this process, with the same rules as the Redis scripts: keys with a time to
/// live on the manager's <see cref="TimeProvider"/>, a line of waiters, a reservation for the
/// waiter a release wakes, and a fencing counter per key. Backs <see cref="InMemoryLockManager"/>.
/// </summary>
internal sealed class InMemoryLockNode : ILockNode
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _handoffGrace;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string Value, long ExpiresAt)> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _lines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _fences = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Action<string?>> _listeners = new(StringComparer.Ordinal);

    public InMemoryLockNode(TimeProvider time, TimeSpan handoffGrace)
    {
        _time = time;
        _handoffGrace = handoffGrace;
    }

    public string Name => "in-memory";

    public void EnsureCompatible()
    {
    }

    public Task<NodeResult> TryAcquireAsync(string key, string value, TimeSpan ttl, string waiterId)
    {
        lock (_gate)
        {
            var current = Current(key);
            var reservedForUs = waiterId.Length > 0 && current == LockRequest.ReservedPrefix + waiterId;
            if (current is null || reservedForUs)
            {
                _keys[key] = (value, Expiry(ttl));
                Leave(key, waiterId);
                var fence = _fences[key] = _fences.GetValueOrDefault(key) + 1;
                return Task.FromResult(NodeResult.GrantedWith(fence));
            }

            if (waiterId.Length > 0 && !Line(key).Contains(waiterId))
            {
                Line(key).Add(waiterId);
            }

            return Task.FromResult(NodeResult.HeldFor(_time.GetElapsedTime(_time.GetTimestamp(), _keys[key].ExpiresAt)));
        }
    }

    public Task<NodeResult> RaiseFenceAsync(string key, long token)
    {
        lock (_gate)
        {
            _fences[key] = Math.Max(_fences.GetValueOrDefault(key), token);
            return Task.FromResult(NodeResult.Granted);
        }
    }

    public Task<NodeResult> ExtendAsync(string key, string value, TimeSpan ttl)
    {
        lock (_gate)
        {
            if (Current(key) != value)
            {
                return Task.FromResult(NodeResult.Denied);
            }

            _keys[key] = (value, Expiry(ttl));
            return Task.FromResult(NodeResult.Granted);
        }
    }

    public Task<NodeResult> ReleaseAsync(string key, string value, string notice)
    {
        Action? wake;
        lock (_gate)
        {
            if (Current(key) != value)
            {
                return Task.FromResult(NodeResult.Denied);
            }

            _keys.Remove(key);
            wake = WakeNext(key, notice);
        }

        wake?.Invoke();
        return Task.FromResult(NodeResult.Granted);
    }

    public Task PassOnAsync(string key, string waiterId, string notice)
    {
        Action? wake = null;
        lock (_gate)
        {
            Leave(key, waiterId);
            if (Current(key) == LockRequest.ReservedPrefix + waiterId)
            {
                _keys.Remove(key);
            }

            if (Current(key) is null)
            {
                wake = WakeNext(key, notice);
            }
        }

        wake?.Invoke();
        return Task.CompletedTask;
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
    /// Picks the first waiter in line that still listens, reserves the lock for it, and returns
    /// the wake to deliver once the gate is released (a waiter's handler may call back into the node).
    /// </summary>
    private Action? WakeNext(string key, string notice)
    {
        var line = Line(key);
        while (line.Count > 0)
        {
            var first = line[0];
            if (_listeners.TryGetValue(LockKeyLayout.WakeChannel(key, first), out var listener))
            {
                _keys[key] = (LockRequest.ReservedPrefix + first, Expiry(_handoffGrace));
                return () => ThreadPool.QueueUserWorkItem(static s => s.listener(s.notice), (listener, notice), preferLocal: false);
            }

            line.RemoveAt(0);
        }

        _lines.Remove(key);
        return null;
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

    /// <summary>Takes a waiter out of the line, and drops a line that is left empty (locks come and go).</summary>
    private void Leave(string key, string waiterId)
    {
        if (_lines.TryGetValue(key, out var line) && line.Remove(waiterId) && line.Count == 0)
        {
            _lines.Remove(key);
        }
    }

    private List<string> Line(string key)
    {
        if (!_lines.TryGetValue(key, out var line))
        {
            line = _lines[key] = [];
        }

        return line;
    }

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
