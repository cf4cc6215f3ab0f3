using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// A lock node on a fake clock that fails on demand, for testing the quorum arithmetic and timing
/// without a network. The rules (line of waiters, handoffs, fencing, expiry) are those of the
/// wrapped <see cref="InMemoryLockNode"/> (the scripts' twins); this adds only the faults. It is not
/// a stand-in for Redis: the Redis behaviour is covered by the integration tests.
/// </summary>
/// <remarks>
/// Like the in-memory node, a release wakes its waiter on the thread pool and hands it the lock for
/// a grace, and fencing tokens start at the clock in microseconds: tests wait for the effect of a
/// wake and compare tokens rather than expect particular values.
/// </remarks>
internal sealed class FakeLockNode(string name, FakeTimeProvider time, TimeSpan? grace = null)
    : ScriptNode(Ms(grace ?? new LockManagerOptions().HandoffGrace), Ms(LockManagerOptions.DefaultIdleExpiry), 1)
{
    private readonly InMemoryLockNode _inner = new(time, grace ?? new LockManagerOptions().HandoffGrace);
    private TaskCompletionSource _hang = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _commands;
    private int _answersToLose;
    private int _ran;
    private int _listeners;

    public override string Name { get; } = name;

    /// <summary>Fails every command at once, like a refused connection.</summary>
    public bool Down { get; set; }

    /// <summary>Holds every command until <see cref="Wake"/>, like a paused server.</summary>
    public bool Hung { get; set; }

    /// <summary>Runs each command at once but holds its answer until <see cref="Wake"/>, like a slow network.</summary>
    public bool DeferAnswers { get; set; }

    /// <summary>
    /// Runs the next this many commands but fails their answers with an <see cref="IOException"/>,
    /// like a connection that broke after sending them. A count rather than a switch: the commands
    /// that follow (a waiter's own attempt, on the thread pool) must not race a test turning it off.
    /// </summary>
    public int LoseAnswers
    {
        get => Volatile.Read(ref _answersToLose);
        set => Volatile.Write(ref _answersToLose, value);
    }

    /// <summary>Answers after this much (fake) time.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Refuses subscriptions, like a server without pub/sub.</summary>
    public bool NoPubSub { get; set; }

    /// <summary>Fails fence raises only (a fence call with a floor), like a node that fails between two commands.</summary>
    public bool FailFenceRaise { get; set; }

    /// <summary>Commands sent to the node, subscriptions included, whether they succeeded or not.</summary>
    public int Commands => Volatile.Read(ref _commands);

    /// <summary>
    /// Commands the node has run (a hung node runs its held commands on the thread pool after
    /// <see cref="Wake"/>): wait on this before checking the state a late command leaves.
    /// </summary>
    public int Ran => Volatile.Read(ref _ran);

    /// <summary>Subscriptions open now.</summary>
    public int Listeners => Volatile.Read(ref _listeners);

    public override Task<RedisResult> EvaluateAsync(LockScript script, RedisKey[] keys, RedisValue[] args) =>
        FailFenceRaise && script.Name.StartsWith("fence-", StringComparison.Ordinal) && (long)args[3] > 0
            ? Task.FromException<RedisResult>(new IOException($"{Name} failed"))
            : Run(() => _inner.EvaluateAsync(script, keys, args));

    public override Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl) => Run(() => _inner.SetIfAbsentAsync(key, value, ttl));

    public override Task<TimeSpan> PingAsync() => Run(_inner.PingAsync);

    public override IAsyncEnumerable<string> KeysAsync(string pattern, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _commands);
        return Down ? throw new IOException($"{Name} is down") : _inner.KeysAsync(pattern, timeout, cancellationToken);
    }

    public override async Task<INodeSubscription> SubscribeAsync(string[] channels, Action<int, string?> onMessage)
    {
        var (hung, hang) = (Hung, _hang);
        Interlocked.Increment(ref _commands);
        if (hung)
        {
            // A paused server does not answer a SUBSCRIBE either.
            await hang.Task;
        }

        if (NoPubSub || Down)
        {
            throw new IOException($"{Name} refuses SUBSCRIBE");
        }

        var inner = await _inner.SubscribeAsync(channels, onMessage);
        Interlocked.Increment(ref _listeners);
        return new Subscription(this, inner);
    }

    public Task<NodeResult> TryAcquireAsync(string key, string id, TimeSpan ttl, string queue = "") => Exclusive(key).AcquireAsync(this, id, ttl, queue, stay: false, arrival: queue.Length > 0 ? ArrivalStamp.Next(time) : 0);

    public Task<NodeResult> ExtendAsync(string key, string id, TimeSpan ttl) => Exclusive(key).ExtendAsync(this, id, ttl);

    public Task<NodeResult> ReleaseAsync(string key, string id, string? notice = null) => Exclusive(key).ReleaseAsync(this, id, notice ?? ReleaseNotice.New(id));

    /// <summary>The node's fencing counter for <paramref name="key"/> (0 before the first token).</summary>
    public long Fence(string key) => _inner.Peek(key).Fence;

    /// <summary>Sets the fencing counter, as a node restarted from an old snapshot would have it.</summary>
    public void SetFence(string key, long token) => _inner.SetFence(key, token);

    /// <summary>What <paramref name="key"/> holds: a lock id, a reservation, the readers' marker, or null.</summary>
    public string? Value(string key) => _inner.Peek(key).Value;

    /// <summary>True while <paramref name="key"/> is held (or reserved for a woken waiter).</summary>
    public bool Holds(string key) => _inner.Peek(key).Value is not null;

    /// <summary>The queues in the line of <paramref name="key"/>, first first.</summary>
    public string[] Line(string key) => _inner.Peek(key).Line;

    /// <summary>Takes the free <paramref name="key"/> as another owner would, without counting a command.</summary>
    public void Seed(string key, string id, TimeSpan ttl)
    {
        // The in-memory node answers at once.
        if (!_inner.SetIfAbsentAsync(key, id, ttl).Result)
        {
            throw new InvalidOperationException($"{key} is held on {Name}: seed a free key.");
        }
    }

    /// <summary>Lets held commands or answers through (see <see cref="Hung"/>, <see cref="DeferAnswers"/>).</summary>
    public void Wake()
    {
        Hung = false;
        _hang.TrySetResult();
        _hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static LockHold Exclusive(string key) => new(key, LockMode.Exclusive);

    private Task<T> Run<T>(Func<Task<T>> send)
    {
        // Read before the command counts: a test that sees the count and then calls Wake must let
        // this command through, not leave it on the gate Wake puts up next.
        var (defer, hung, hang) = (DeferAnswers, Hung, _hang);
        Interlocked.Increment(ref _commands);
        Task<T> command()
        {
            Interlocked.Increment(ref _ran);
            return send();
        }

        if (Down)
        {
            return Task.FromException<T>(new IOException($"{Name} is down"));
        }

        if (LoseAnswer())
        {
            return command().ContinueWith<T>(
                _ => throw new IOException($"{Name} lost the answer"), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        if (defer)
        {
            var answer = command();
            return hang.Task.ContinueWith(_ => answer, TaskScheduler.Default).Unwrap();
        }

        if (hung)
        {
            return hang.Task.ContinueWith(_ => command(), TaskScheduler.Default).Unwrap();
        }

        if (Latency > TimeSpan.Zero)
        {
            // Answer inside the fake clock step that ends the latency, so that a later step's
            // node timeout can never overtake an answer that was already due.
            return Task.Delay(Latency, time).ContinueWith(
                _ => command(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
        }

        return command();
    }

    private bool LoseAnswer()
    {
        var left = Volatile.Read(ref _answersToLose);
        while (left > 0)
        {
            var seen = Interlocked.CompareExchange(ref _answersToLose, left - 1, left);
            if (seen == left)
            {
                return true;
            }

            left = seen;
        }

        return false;
    }

    private sealed class Subscription(FakeLockNode node, INodeSubscription inner) : INodeSubscription
    {
        private int _disposed;

        public bool IsActive => !node.Down && inner.IsActive;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return ValueTask.CompletedTask;
            }

            Interlocked.Decrement(ref node._listeners);
            return inner.DisposeAsync();
        }
    }
}
