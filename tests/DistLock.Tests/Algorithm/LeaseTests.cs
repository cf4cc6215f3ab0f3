using DistLock.Algorithm;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistLock.Tests.Algorithm;

public sealed class LeaseTests
{
    private const string Key = "lock:{r}";
    private const string Value = "me";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    private readonly InlineTimersClock _time = new();

    [Fact]
    public async Task AutoExtend_KeepsTheKeyAlivePastManyTtls()
    {
        var (lease, nodes, keeper) = await AcquireAsync(3);

        await AdvanceAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(LockState.Held, lease.State);
        Assert.False(lease.LostSource()!.IsCancellationRequested);
        Assert.All(nodes, node => Assert.True(node.Holds(Key)));
        Assert.Equal(1, keeper.Count);
    }

    [Fact]
    public async Task AutoExtend_ExtendsEveryThirdOfTheTtl()
    {
        var (_, nodes, _) = await AcquireAsync(1);
        var acquireCommands = nodes[0].Commands;

        await AdvanceAsync(TimeSpan.FromMilliseconds(900));
        Assert.Equal(acquireCommands, nodes[0].Commands);
        await AdvanceAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(acquireCommands + 1, nodes[0].Commands);
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(acquireCommands + 2, nodes[0].Commands);
    }

    [Fact]
    public async Task ExtensionRefused_FiresLostAtTheNextExtension()
    {
        var (lease, nodes, keeper) = await AcquireAsync(1);
        var lost = lease.LostSource()!;
        // The key is gone behind the lease's back (say, evicted), and someone else took it.
        Assert.Equal(NodeReply.Granted, (await nodes[0].ReleaseAsync(Key, Value)).Reply);
        nodes[0].Seed(Key, "someone-else", TimeSpan.FromMinutes(1));

        await AdvanceAsync(TimeSpan.FromMilliseconds(1100));

        Assert.Equal(LockState.Lost, lease.State);
        Assert.True(lost.IsCancellationRequested);
        Assert.Null(lease.LostSource());
        Assert.Equal(0, keeper.Count);
    }

    [Fact]
    public async Task RedisHung_LostFiresByTheDeadline_BeforeTheKeyCanExpire()
    {
        var (lease, nodes, _) = await AcquireAsync(1);
        var acquiredAt = _time.GetUtcNow();
        nodes[0].Hung = true;
        var firedAt = DateTimeOffset.MaxValue;
        var lost = lease.LostSource()!; // held here, as a handle holds it
        lost.Token.Register(() => firedAt = _time.GetUtcNow());

        await AdvanceAsync(Ttl + TimeSpan.FromSeconds(1));

        Assert.Equal(LockState.Lost, lease.State);
        Assert.True(await FakeClock.PollAsync(() => firedAt != DateTimeOffset.MaxValue));
        Assert.True(firedAt - acquiredAt <= Ttl - LockValidity.Drift(Ttl, 0.01) + Step, $"fired {firedAt - acquiredAt} after acquiring");
        Assert.True(firedAt - acquiredAt >= Ttl - LockValidity.Drift(Ttl, 0.01) - Step, $"fired {firedAt - acquiredAt} after acquiring");
        nodes[0].Wake();
        GC.KeepAlive(lost);
    }

    [Fact]
    public async Task RedisDownForAWhile_ExtensionIsRetried_AndTheLockSurvives()
    {
        var (lease, nodes, _) = await AcquireAsync(1);
        nodes[0].Down = true;
        await AdvanceAsync(TimeSpan.FromMilliseconds(1500));
        nodes[0].Down = false;

        await AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(LockState.Held, lease.State);
        Assert.True(nodes[0].Holds(Key));
    }

    [Fact]
    public async Task AutoExtendOff_NoExtension_LostAtTheDeadline()
    {
        var (lease, nodes, _) = await AcquireAsync(1, autoExtend: false);
        var acquireCommands = nodes[0].Commands;

        await AdvanceAsync(Ttl);

        Assert.Equal(acquireCommands, nodes[0].Commands);
        Assert.Equal(LockState.Lost, lease.State);
    }

    [Fact]
    public async Task MaxHoldTime_StopsExtending_ThenTheLockIsLost()
    {
        var (lease, nodes, _) = await AcquireAsync(1, maxHoldTime: TimeSpan.FromSeconds(5));

        await AdvanceAsync(TimeSpan.FromSeconds(4.5));
        Assert.Equal(LockState.Held, lease.State);
        await AdvanceAsync(TimeSpan.FromSeconds(4));

        Assert.Equal(LockState.Lost, lease.State);
        Assert.False(nodes[0].Holds(Key));
    }

    [Fact]
    public async Task Released_StopsExtending_AndNeverFiresLost()
    {
        var (lease, nodes, keeper) = await AcquireAsync(1);
        Assert.True(lease.BeginRelease());
        var commands = nodes[0].Commands;

        await AdvanceAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(commands, nodes[0].Commands);
        Assert.Equal(LockState.Released, lease.State);
        Assert.False(lease.LostSource()!.IsCancellationRequested);
        Assert.Equal(0, keeper.Count);
    }

    [Fact]
    public async Task ManualExtendWithLongerTtl_AutoExtensionGoesOnWithIt()
    {
        var (lease, nodes, _) = await AcquireAsync(1);
        var before = lease.Deadline;

        Assert.True(await lease.ExtendAsync(TimeSpan.FromSeconds(30)));
        await AdvanceAsync(TimeSpan.FromSeconds(5));
        nodes[0].Hung = true;
        await AdvanceAsync(TimeSpan.FromSeconds(20));

        Assert.True(lease.Deadline > before);
        Assert.Equal(LockState.Held, lease.State);
        nodes[0].Wake();
    }

    [Fact]
    public async Task ManyLocksComingAndGoing_LeaveTheKeepersQueueBounded()
    {
        var (first, nodes, keeper) = await AcquireAsync(1);
        var quorum = new RedlockProtocol(nodes, TimeSpan.FromMilliseconds(50), 0.01, _time, NullLogger.Instance);
        for (var i = 0; i < 1000; i++)
        {
            var key = $"lock:{{k{i}}}";
            var attempt = await quorum.TryAcquireOnceAsync(Holds.Exclusive(key), Value, Ttl);
            var lease = NewLease(quorum, keeper, key, attempt.SentAt, autoExtend: true, maxHoldTime: null);
            Assert.True(lease.BeginRelease());
        }

        Assert.Equal(1, keeper.Count);
        Assert.InRange(keeper.QueuedEntries, 1, 70);
        Assert.Equal(LockState.Held, first.State);
    }

    [Fact]
    public async Task KeeperClosed_ReturnsEveryLeaseStillHeld()
    {
        var (lease, _, keeper) = await AcquireAsync(1);

        var left = keeper.Close();

        Assert.Equal([lease], left);
    }

    [Fact]
    public async Task ConcurrentExtensions_NodeRunsThemInReverse_TheDeadlineNeverOutlivesTheKey()
    {
        var (lease, node, gated) = await AcquireGatedAsync();

        var shorter = lease.ExtendAsync(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromMilliseconds(10));
        var longer = lease.ExtendAsync(TimeSpan.FromSeconds(30));

        // Whatever has been sent reaches the node newest first: sent together, the longer TTL runs
        // first and the shorter one is what the key keeps. Sent in turn, the longer one comes last.
        Assert.True(await FakeClock.PollAsync(() => gated.Pending > 0));
        await gated.RunNewestFirstAsync();
        Assert.True(await FakeClock.PollAsync(() => shorter.IsCompleted));
        Assert.True(await FakeClock.PollAsync(() => gated.Pending > 0 || longer.IsCompleted));
        await gated.RunNewestFirstAsync();
        Assert.True(await shorter);
        Assert.True(await longer.WaitAsync(TimeSpan.FromSeconds(10)));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(node.Holds(Key), lease.State == LockState.Held);
        Assert.Equal(LockState.Held, lease.State);
    }

    [Fact]
    public async Task ShorterExtensionUnanswered_ThatLandsLate_CannotLeaveTheDeadlineAfterTheKeysExpiry()
    {
        var (lease, node, gated) = await AcquireGatedAsync();

        var extending = lease.ExtendAsync(TimeSpan.FromSeconds(1));
        Assert.True(await FakeClock.PollAsync(() => gated.Pending > 0));
        _time.Advance(TimeSpan.FromMilliseconds(60)); // past the node timeout: no answer
        await Assert.ThrowsAsync<LockBackendException>(() => extending);
        await gated.RunNewestFirstAsync(); // it reaches the node after all

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(node.Holds(Key));
        Assert.Equal(LockState.Lost, lease.State);
    }

    [Fact]
    public async Task ExtensionAnsweredAfterTheLeaseWasLost_ReturnsFalse_LikeState()
    {
        var (lease, _, gated) = await AcquireGatedAsync();

        var extending = lease.ExtendAsync(Ttl);
        Assert.True(await FakeClock.PollAsync(() => gated.Pending > 0));
        lease.MarkLost(LostReason.Disposed); // e.g. the manager was disposed meanwhile
        await gated.RunNewestFirstAsync();

        Assert.False(await extending);
        Assert.Equal(LockState.Lost, lease.State);
    }

    /// <summary>A lease without automatic extension on one node whose extensions the test lets through.</summary>
    private async Task<(Lease Lease, FakeLockNode Node, GatedExtendNode Gated)> AcquireGatedAsync()
    {
        var node = new FakeLockNode("node0", _time);
        var gated = new GatedExtendNode(node);
        var quorum = new RedlockProtocol([gated], TimeSpan.FromMilliseconds(50), 0.01, _time, NullLogger.Instance);
        var attempt = await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), Value, Ttl);
        Assert.True(attempt.Acquired);
        var lease = NewLease(quorum, new LeaseKeeper(_time), Key, attempt.SentAt, autoExtend: false, maxHoldTime: null);
        return (lease, node, gated);
    }

    /// <summary>
    /// A fake clock runs due timers inside a timer's <c>Change</c>, on the calling thread. The keeper set
    /// its timer while it held its own lock and the lease's: a due timer waking another lease there
    /// waited for that lease's lock, whose holder waited for the keeper. A review's stress run hung so,
    /// and every timer of that clock with it. Now neither is held while the timer is set: a call from
    /// another thread that needs the lease and the keeper goes through inside <c>Change</c>.
    /// </summary>
    [Fact]
    public async Task SettingTheKeepersTimer_HoldsNeitherTheLeaseNorTheKeeper()
    {
        var (lease, _, keeper) = await AcquireAsync(1);
        var blocked = true;
        _time.OnTimerSet = () => blocked = !Task.Run(() => (lease.State, keeper.Count)).Wait(TimeSpan.FromSeconds(5));

        // Its next extension is now due before the one the timer is set for: the keeper sets it again.
        Assert.True(await lease.ExtendAsync(TimeSpan.FromMilliseconds(600)));

        Assert.False(blocked);
    }

    /// <summary>A lease's state is read with the clock read first: its reading can run due timers (a fake clock's), which may need the lease from another thread.</summary>
    [Fact]
    public async Task ReadingTheState_ReadsTheClockWithTheLeaseFree()
    {
        var (lease, _, _) = await AcquireAsync(1);
        var blocked = true;
        _time.OnRead = () => blocked = !Task.Run(() => lease.Deadline).Wait(TimeSpan.FromSeconds(5));

        Assert.Equal(LockState.Held, lease.State);

        Assert.False(blocked);
    }

    /// <summary>
    /// The keeper takes the leases that are due out of its queue, marked as being woken, and wakes them
    /// after it lets its lock go. A compaction of the queue in that moment (any acquire or extension on
    /// another thread can make one) copied a lease being woken back in, due at the end of time; once
    /// every other entry was gone the keeper armed its timer for that, and the timer threw
    /// ArgumentOutOfRangeException on a timer thread, which ended the process (a review saw it
    /// within 60 s under load, with the system clock). Here the compaction comes from the logger,
    /// which the lease that expires first calls while the second one is still to be woken.
    /// </summary>
    [Fact]
    public async Task QueueCompactedWhileLeasesAreBeingWoken_NeverArmsTheTimerPastItsLimit()
    {
        var nodes = new[] { new FakeLockNode("node0", _time) };
        var quorum = new RedlockProtocol(nodes, TimeSpan.FromMilliseconds(50), 0.01, _time, NullLogger.Instance);
        var keeper = new LeaseKeeper(_time);
        var compacting = new OnLogLogger();
        var expiring = await LeaseOnAsync(quorum, keeper, "lock:{expiring}", TimeSpan.FromSeconds(1), autoExtend: false, compacting);
        var extended = await LeaseOnAsync(quorum, keeper, "lock:{extended}", TimeSpan.FromSeconds(6), autoExtend: true, NullLogger.Instance);
        var other = await LeaseOnAsync(quorum, keeper, "lock:{other}", TimeSpan.FromMinutes(1), autoExtend: false, NullLogger.Instance);
        compacting.OnLog = () =>
        {
            for (var i = 0; i < 100; i++)
            {
                keeper.Schedule(other);
            }
        };

        // One wake for both: the expiring lease is due first, and its loss is logged while the
        // extended one is still to be woken.
        _time.Advance(TimeSpan.FromSeconds(2.5));
        await Task.Delay(20);
        compacting.OnLog = null;
        Assert.Equal(LockState.Lost, expiring.State);
        Assert.True(extended.BeginRelease());
        Assert.True(other.BeginRelease());

        var error = Record.Exception(() => _time.Advance(TimeSpan.FromMinutes(2)));

        Assert.Null(error);
        Assert.Equal(0, keeper.Count);
    }

    private async Task<Lease> LeaseOnAsync(RedlockProtocol quorum, LeaseKeeper keeper, string key, TimeSpan ttl, bool autoExtend, ILogger logger)
    {
        var attempt = await quorum.TryAcquireOnceAsync(Holds.Exclusive(key), Value, ttl);
        Assert.True(attempt.Acquired);
        var context = new LeaseContext(quorum, keeper, logger, new LockMetrics(new System.Diagnostics.Metrics.Meter("DistLock.Tests"), "single"));
        return new Lease(context, Holds.Exclusive(key), Value, ttl, new LeaseClock(_time, 0.01, ttl, attempt.SentAt, autoExtend, maxHoldTime: null));
    }

    private async Task<(Lease Lease, FakeLockNode[] Nodes, LeaseKeeper Keeper)> AcquireAsync(
        int count, bool autoExtend = true, TimeSpan? maxHoldTime = null)
    {
        var nodes = Enumerable.Range(0, count).Select(i => new FakeLockNode($"node{i}", _time)).ToArray();
        var quorum = new RedlockProtocol(nodes, TimeSpan.FromMilliseconds(50), 0.01, _time, NullLogger.Instance);
        var keeper = new LeaseKeeper(_time);
        var attempt = await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), Value, Ttl);
        Assert.True(attempt.Acquired);
        var lease = NewLease(quorum, keeper, Key, attempt.SentAt, autoExtend, maxHoldTime);
        return (lease, nodes, keeper);
    }

    private Lease NewLease(RedlockProtocol quorum, LeaseKeeper keeper, string key, long sentAt, bool autoExtend, TimeSpan? maxHoldTime)
    {
        var metrics = new LockMetrics(new System.Diagnostics.Metrics.Meter("DistLock.Tests"), "single");
        var context = new LeaseContext(quorum, keeper, NullLogger.Instance, metrics);
        return new Lease(context, Holds.Exclusive(key), Value, Ttl, new LeaseClock(_time, 0.01, Ttl, sentAt, autoExtend, maxHoldTime));
    }

    /// <summary>Moves the fake clock in small steps, letting the keeper's work run between them.</summary>
    private async Task AdvanceAsync(TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += Step)
        {
            _time.Advance(Step);
            await Task.Delay(2);
        }
    }

    /// <summary>A logger that runs <see cref="OnLog"/> at every entry, on the logging thread.</summary>
    private sealed class OnLogLogger : ILogger
    {
        public Action? OnLog { get; set; }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => OnLog?.Invoke();
    }
}
