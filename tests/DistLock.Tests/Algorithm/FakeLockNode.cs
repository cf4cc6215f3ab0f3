using DistLock.Algorithm;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// An in-memory lock node on a fake clock, for testing the quorum arithmetic and timing without
/// a network. It is not a stand-in for Redis: the Redis behaviour is covered by the integration tests.
/// </summary>
internal sealed class FakeLockNode(string name, FakeTimeProvider time) : ILockNode
{
    private readonly Dictionary<string, (string Value, DateTimeOffset Expires)> _keys = [];
    private readonly List<(string Channel, Action<string?> OnWake)> _listeners = [];
    private readonly Dictionary<string, List<string>> _lines = [];
    private readonly Dictionary<string, long> _fences = [];
    private TaskCompletionSource _hang = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    /// <summary>Fails every command at once, like a refused connection.</summary>
    public bool Down { get; set; }

    /// <summary>Holds every command until <see cref="Wake"/>, like a paused server.</summary>
    public bool Hung { get; set; }

    /// <summary>Runs each command at once but holds its answer until <see cref="Wake"/>, like a slow network.</summary>
    public bool DeferAnswers { get; set; }

    /// <summary>Answers after this much (fake) time.</summary>
    public TimeSpan Latency { get; set; }

    public int Commands { get; private set; }

    /// <summary>Refuses subscriptions, like a server without pub/sub.</summary>
    public bool NoPubSub { get; set; }

    public int Listeners
    {
        get
        {
            lock (_listeners)
            {
                return _listeners.Count;
            }
        }
    }

    public void EnsureCompatible()
    {
    }

    public Task<NodeResult> TryAcquireAsync(string key, string id, TimeSpan ttl) => TryAcquireAsync(key, id, ttl, string.Empty);

    public Task<NodeResult> TryAcquireAsync(LockTarget target, string id, TimeSpan ttl, string waiterId) => TryAcquireAsync(target.Key, id, ttl, waiterId);

    public Task<NodeResult> TryAcquireAsync(string key, string id, TimeSpan ttl, string waiterId) => Run(() =>
    {
        var line = Line(key);
        if (Current(key) is { } held)
        {
            if (waiterId.Length > 0 && !line.Contains(waiterId))
            {
                line.Add(waiterId);
            }

            return NodeResult.Refused(held.Expires - time.GetUtcNow());
        }

        _keys[key] = (id, time.GetUtcNow() + ttl);
        line.Remove(waiterId);
        return NodeResult.GrantedWith(_fences[key] = Fence(key) + 1);
    });

    /// <summary>Fails fence raises only, like a node that fails between two commands.</summary>
    public bool FailFenceRaise { get; set; }

    public Task<NodeResult> RaiseFenceAsync(string key, long token) => FailFenceRaise
        ? Task.FromException<NodeResult>(new IOException($"{Name} failed"))
        : Run(() =>
    {
        _fences[key] = Math.Max(Fence(key), token);
        return NodeResult.Granted;
    });

    /// <summary>The node's fencing counter for <paramref name="key"/> (0 before the first grant).</summary>
    public long Fence(string key) => _fences.GetValueOrDefault(key);

    /// <summary>Sets the fencing counter, as a node restarted from an old snapshot would have it.</summary>
    public void SetFence(string key, long id) => _fences[key] = id;

    public Task<NodeResult> ExtendAsync(LockTarget target, string id, TimeSpan ttl) => ExtendAsync(target.Key, id, ttl);

    public Task<NodeResult> ExtendAsync(string key, string id, TimeSpan ttl) => Run(() =>
    {
        if (Current(key)?.Value != id)
        {
            return NodeResult.Denied;
        }

        _keys[key] = (id, time.GetUtcNow() + ttl);
        return NodeResult.Granted;
    });

    public Task<NodeResult> ReleaseAsync(string key, string id) => ReleaseAsync(key, id, id + "/" + Guid.NewGuid());

    public Task<NodeResult> ReleaseAsync(LockTarget target, string id, string notice) => ReleaseAsync(target.Key, id, notice);

    public Task<NodeResult> ReleaseAsync(string key, string id, string notice) => Run(() =>
    {
        if (Current(key)?.Value != id || !_keys.Remove(key))
        {
            return NodeResult.Denied;
        }

        WakeFirst(key, notice);
        return NodeResult.Granted;
    });

    public Task PassOnAsync(LockTarget target, string waiterId, string notice) => PassOnAsync(target.Key, waiterId, notice);

    public Task PassOnAsync(string key, string waiterId, string notice) => Run(() =>
    {
        Line(key).Remove(waiterId);
        if (Current(key) is null)
        {
            WakeFirst(key, notice);
        }

        return NodeResult.Granted;
    });

    public Task<INodeSubscription> SubscribeAsync(string key, string waiterId, Action<string?> onWake)
    {
        Commands++;
        if (NoPubSub || Down)
        {
            return Task.FromException<INodeSubscription>(new IOException($"{Name} refuses SUBSCRIBE"));
        }

        var entry = (key + ":wake:" + waiterId, onWake);
        lock (_listeners)
        {
            _listeners.Add(entry);
        }

        return Task.FromResult<INodeSubscription>(new Subscription(this, entry));
    }

    /// <summary>Deletes a key the way an expiry would: silently, announcing nothing.</summary>
    public void Expire(string key)
    {
        lock (_keys)
        {
            _keys.Remove(key);
        }
    }

    /// <summary>Wakes the first waiter in line that someone listens for, dropping the others (as release.lua does).</summary>
    private void WakeFirst(string key, string notice)
    {
        var line = Line(key);
        while (line.Count > 0)
        {
            List<Action<string?>> listeners;
            lock (_listeners)
            {
                listeners = _listeners.Where(l => l.Channel == key + ":wake:" + line[0]).Select(l => l.OnWake).ToList();
            }

            if (listeners.Count > 0)
            {
                foreach (var listener in listeners)
                {
                    listener(notice);
                }

                return;
            }

            line.RemoveAt(0);
        }
    }

    private List<string> Line(string key) => _lines.TryGetValue(key, out var line) ? line : _lines[key] = [];

    public bool Holds(string key) => Current(key) is not null;

    public void Wake()
    {
        Hung = false;
        _hang.TrySetResult();
        _hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Sets a key as another owner would have.</summary>
    public void Seed(string key, string id, TimeSpan ttl) => _keys[key] = (id, time.GetUtcNow() + ttl);

    private (string Value, DateTimeOffset Expires)? Current(string key)
    {
        if (_keys.TryGetValue(key, out var entry) && entry.Expires > time.GetUtcNow())
        {
            return entry;
        }

        _keys.Remove(key);
        return null;
    }

    private Task<NodeResult> Run(Func<NodeResult> command)
    {
        Commands++;
        if (Down)
        {
            return Task.FromException<NodeResult>(new IOException($"{Name} is down"));
        }

        if (DeferAnswers)
        {
            var answer = Locked(command);
            return _hang.Task.ContinueWith(_ => answer, TaskScheduler.Default);
        }

        if (Hung)
        {
            return _hang.Task.ContinueWith(_ => Locked(command), TaskScheduler.Default);
        }

        if (Latency > TimeSpan.Zero)
        {
            // Answer inside the fake clock step that ends the latency, so that a later step's
            // node timeout can never overtake an answer that was already due.
            return Task.Delay(Latency, time).ContinueWith(
                _ => Locked(command), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return Task.FromResult(Locked(command));
    }

    private sealed class Subscription(FakeLockNode node, (string, Action<string?>) entry) : INodeSubscription
    {
        public bool IsActive => !node.Down;

        public ValueTask DisposeAsync()
        {
            lock (node._listeners)
            {
                node._listeners.Remove(entry);
            }

            return ValueTask.CompletedTask;
        }
    }

    private NodeResult Locked(Func<NodeResult> command)
    {
        lock (_keys)
        {
            return command();
        }
    }
}
