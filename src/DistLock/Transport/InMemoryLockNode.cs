using System.Runtime.CompilerServices;
using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// A node inside this process: it runs the scripts themselves (<see cref="ScriptRunner"/>) one at
/// a time on a <see cref="MemoryKeyspace"/> at the time of the manager's <see cref="TimeProvider"/>, and
/// delivers what they publish to its subscribers on the thread pool, after the script, as Redis
/// delivers pub/sub messages. Backs <see cref="InMemoryLockManager"/>.
/// </summary>
internal sealed class InMemoryLockNode : ScriptNode
{
    private readonly Lock _gate;
    private readonly TimeProvider _time;
    private readonly MemoryKeyspace _keyspace;
    private readonly ScriptRunner _scripts;
    private readonly Dictionary<string, List<Action<string?>>> _listeners;
    private readonly List<(Action<string?> Listener, string Message)> _outbox;

    /// <param name="time">The clock: expiry, TIME and fencing tokens.</param>
    /// <param name="handoffGrace">How long a woken queue has to claim its turn.</param>
    /// <param name="idleExpiry">How long a fencing counter outlives its last token.</param>
    public InMemoryLockNode(TimeProvider time, TimeSpan handoffGrace, TimeSpan? idleExpiry = null)
        : base(Ms(handoffGrace), Ms(idleExpiry ?? LockManagerOptions.DefaultIdleExpiry), fenceResolution: 1)
    {
        _gate = new();
        _time = time;
        _listeners = new(StringComparer.Ordinal);
        _outbox = [];
        _keyspace = new MemoryKeyspace(Publish);
        _scripts = new ScriptRunner(_keyspace);
    }

    private InMemoryLockNode(InMemoryLockNode shared, TimeSpan handoffGrace)
        : base(Ms(handoffGrace), shared.IdleExpiryMs, fenceResolution: 1)
    {
        _gate = shared._gate;
        _time = shared._time;
        _listeners = shared._listeners;
        _outbox = shared._outbox;
        _keyspace = shared._keyspace;
        _scripts = shared._scripts;
    }

    /// <summary>
    /// This node's keyspace and subscribers, as another manager sees them: the grace is a setting of
    /// the manager that wakes a queue (on Redis, each process passes its own), so it is not shared.
    /// </summary>
    public InMemoryLockNode SharedWith(TimeSpan handoffGrace) => new(this, handoffGrace);

    public override string Name => "in-memory";

    /// <summary>Keys held now, expired ones not yet swept included (for tests).</summary>
    public int Entries
    {
        get => AtNow(() => _keyspace.Count);
    }

    /// <summary>What <paramref name="key"/> holds now, its fencing counter and the queues in its line, in order (for tests).</summary>
    internal (string? Value, long Fence, string[] Line) Peek(string key) => AtNow<(string?, long, string[])>(() =>
        {
            var fence = (string?)_keyspace.Execute(["GET", LockKeyLayout.FenceKey(key)]);
            return ((string?)_keyspace.Execute(["GET", key]), fence is null ? 0 : long.Parse(fence, System.Globalization.CultureInfo.InvariantCulture), [.. ((object[])_keyspace.Execute(["ZRANGE", LockKeyLayout.WaitersKey(key), "0", "-1"])!).Cast<string>()]);
        });

    /// <summary>For tests only: sets the fencing counter of <paramref name="key"/>, as a node restored from an old snapshot would have it.</summary>
    internal void SetFence(string key, long token) =>
        AtNow(() => _keyspace.Execute(["SET", LockKeyLayout.FenceKey(key), MemoryKeyspace.Format(token), "PX", MemoryKeyspace.Format(IdleExpiryMs)]));

    public override Task<RedisResult> EvaluateAsync(LockScript script, RedisKey[] keys, RedisValue[] args)
    {
        var result = AtNow(() =>
        {
            var result = _scripts.Run(script, keys, args);
            _keyspace.SweepWhenGrown();
            return result;
        });

        Deliver();
        return Task.FromResult(result);
    }

    public override Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl) =>
        Task.FromResult(AtNow(() => _keyspace.Execute(["SET", key, value, "PX", MemoryKeyspace.Format(Ms(ttl)), "NX"])) is not null);

    public override Task<TimeSpan> PingAsync() => Task.FromResult(TimeSpan.Zero);

    public override async IAsyncEnumerable<string> KeysAsync(string pattern, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var keys = (object[])AtNow(() => _keyspace.Execute(["KEYS", pattern]))!;

        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return (string)key;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public override Task<INodeSubscription> SubscribeAsync(string[] channels, Action<int, string?> onMessage)
    {
        var handlers = channels.Select((_, i) => (Action<string?>)(message => onMessage(i, message))).ToArray();
        lock (_gate)
        {
            for (var i = 0; i < channels.Length; i++)
            {
                (_listeners.TryGetValue(channels[i], out var list) ? list : _listeners[channels[i]] = []).Add(handlers[i]);
            }
        }

        return Task.FromResult<INodeSubscription>(new Subscription(this, channels, handlers));
    }

    /// <summary>
    /// Runs <paramref name="work"/> under the gate, with the keyspace at the clock's time read just before: a clock reading can
    /// run due timers inline (<c>FakeTimeProvider</c> runs them in <c>GetUtcNow</c>), and a waiter
    /// woken there would run its own script on this thread, in the middle of this one.
    /// </summary>
    private T AtNow<T>(Func<T> work)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            _keyspace.MoveTo(now);
            return work();
        }
    }

    /// <summary>PUBLISH, under the gate: counts the channel's listeners, and delivers after the script.</summary>
    private int Publish(string channel, string message)
    {
        if (!_listeners.TryGetValue(channel, out var listeners))
        {
            return 0;
        }

        foreach (var listener in listeners)
        {
            _outbox.Add((listener, message));
        }

        return listeners.Count;
    }

    private void Deliver()
    {
        List<(Action<string?> Listener, string Message)> due;
        lock (_gate)
        {
            if (_outbox.Count == 0)
            {
                return;
            }

            due = [.. _outbox];
            _outbox.Clear();
        }

        // In order, on the thread pool: never on the caller's stack, as pub/sub would not be.
        ThreadPool.QueueUserWorkItem(static due => due.ForEach(m => m.Listener(m.Message)), due, preferLocal: false);
    }

    private sealed class Subscription(InMemoryLockNode node, string[] channels, Action<string?>[] handlers) : INodeSubscription
    {
        public bool IsActive => true;

        public ValueTask DisposeAsync()
        {
            lock (node._gate)
            {
                for (var i = 0; i < channels.Length; i++)
                {
                    if (node._listeners.TryGetValue(channels[i], out var list) && list.Remove(handlers[i]) && list.Count == 0)
                    {
                        node._listeners.Remove(channels[i]);
                    }
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
