using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// A lock node on a fake clock that fails on demand, for testing the quorum arithmetic and timing
/// without a network. The rules (line of waiters, reservations, fencing, expiry) are those of the
/// wrapped <see cref="InMemoryLockNode"/>; this adds only the faults. It is not a stand-in for
/// Redis: the Redis behaviour is covered by the integration tests.
/// </summary>
/// <remarks>
/// Like the in-memory node, a release wakes its waiter on the thread pool, reserves the lock for it
/// for a grace, and fencing tokens start at the clock in microseconds: tests wait for the effect
/// of a wake and compare tokens rather than expect particular values.
/// </remarks>
internal sealed class FakeLockNode(string name, FakeTimeProvider time) : ILockNode
{
    private readonly InMemoryLockNode _inner = new(time, new LockOptions().HandoffGrace);
    private TaskCompletionSource _hang = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _commands;
    private int _listeners;

    public string Name { get; } = name;

    /// <summary>Fails every command at once, like a refused connection.</summary>
    public bool Down { get; set; }

    /// <summary>Holds every command until <see cref="Wake"/>, like a paused server.</summary>
    public bool Hung { get; set; }

    /// <summary>Runs each command at once but holds its answer until <see cref="Wake"/>, like a slow network.</summary>
    public bool DeferAnswers { get; set; }

    /// <summary>Answers after this much (fake) time.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Refuses subscriptions, like a server without pub/sub.</summary>
    public bool NoPubSub { get; set; }

    /// <summary>Fails fence raises only, like a node that fails between two commands.</summary>
    public bool FailFenceRaise { get; set; }

    /// <summary>Commands sent to the node, subscriptions included, whether they succeeded or not.</summary>
    public int Commands => Volatile.Read(ref _commands);

    /// <summary>Subscriptions open now.</summary>
    public int Listeners => Volatile.Read(ref _listeners);

    public void EnsureCompatible()
    {
    }

    public Task<NodeResult> TryAcquireAsync(string key, string id, TimeSpan ttl) => TryAcquireAsync(LockTarget.Exclusive(key), id, ttl, string.Empty);

    public Task<NodeResult> TryAcquireAsync(string key, string id, TimeSpan ttl, string waiterId) => TryAcquireAsync(LockTarget.Exclusive(key), id, ttl, waiterId);

    public Task<NodeResult> TryAcquireAsync(LockTarget target, string id, TimeSpan ttl, string waiterId) =>
        Run(() => _inner.TryAcquireAsync(target, id, ttl, waiterId));

    public Task<NodeResult> RaiseFenceAsync(string key, long token) => FailFenceRaise
        ? Task.FromException<NodeResult>(new IOException($"{Name} failed"))
        : Run(() => _inner.RaiseFenceAsync(key, token));

    public Task<NodeResult> ExtendAsync(string key, string id, TimeSpan ttl) => ExtendAsync(LockTarget.Exclusive(key), id, ttl);

    public Task<NodeResult> ExtendAsync(LockTarget target, string id, TimeSpan ttl) => Run(() => _inner.ExtendAsync(target, id, ttl));

    public Task<NodeResult> ReleaseAsync(string key, string id) => ReleaseAsync(key, id, id + "/" + Guid.NewGuid());

    public Task<NodeResult> ReleaseAsync(string key, string id, string notice) => ReleaseAsync(LockTarget.Exclusive(key), id, notice);

    public Task<NodeResult> ReleaseAsync(LockTarget target, string id, string notice) => Run(() => _inner.ReleaseAsync(target, id, notice));

    public Task PassOnAsync(LockTarget target, string waiterId, string notice) => Run(async () =>
    {
        await _inner.PassOnAsync(target, waiterId, notice);
        return NodeResult.Granted;
    });

    public async Task<INodeSubscription> SubscribeAsync(string key, string waiterId, Action<string?> onWake)
    {
        Interlocked.Increment(ref _commands);
        if (NoPubSub || Down)
        {
            throw new IOException($"{Name} refuses SUBSCRIBE");
        }

        var inner = await _inner.SubscribeAsync(key, waiterId, onWake);
        Interlocked.Increment(ref _listeners);
        return new Subscription(this, inner);
    }

    /// <summary>The node's fencing counter for <paramref name="key"/> (0 before the first grant).</summary>
    public long Fence(string key) => _inner.Peek(key).Fence;

    /// <summary>Sets the fencing counter, as a node restarted from an old snapshot would have it.</summary>
    public void SetFence(string key, long token) => _inner.SetFence(key, token);

    /// <summary>True while <paramref name="key"/> is held (or reserved for a woken waiter).</summary>
    public bool Holds(string key) => _inner.Peek(key).Value is not null;

    /// <summary>Takes the free <paramref name="key"/> as another owner would, without counting a command.</summary>
    public void Seed(string key, string id, TimeSpan ttl)
    {
        // The in-memory node answers at once, so this does not block.
        if (_inner.TryAcquireAsync(LockTarget.Exclusive(key), id, ttl, string.Empty).GetAwaiter().GetResult().Reply != NodeReply.Granted)
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

    private Task<NodeResult> Run(Func<Task<NodeResult>> command)
    {
        Interlocked.Increment(ref _commands);
        if (Down)
        {
            return Task.FromException<NodeResult>(new IOException($"{Name} is down"));
        }

        if (DeferAnswers)
        {
            var answer = command();
            return _hang.Task.ContinueWith(_ => answer, TaskScheduler.Default).Unwrap();
        }

        if (Hung)
        {
            return _hang.Task.ContinueWith(_ => command(), TaskScheduler.Default).Unwrap();
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
