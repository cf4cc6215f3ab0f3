using System.Collections.Concurrent;
using DistLock.Algorithm;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// A release hands the lock straight to the next waiter of its own manager when the turn is that
/// waiter's queue's (see <see cref="Successor"/>): one command, where a wake and a claim take two
/// round trips and a pub/sub delivery. The waiter and the release race for the offer; whatever
/// happens, the two never both ask a node, and a hold handed to a waiter that gave up is given back.
/// </summary>
public sealed class InProcessHandoffTests
{
    private const string Key = "lock:{r}";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Release_WithALocalWaiterOffered_HandsItTheLockInTheSameCommand()
    {
        var (node, loop, hold, waiting) = await HeldWithAWaiterOfferedAsync(CancellationToken.None);
        var before = node.Commands;

        Assert.True(await loop.ReleaseAsync(hold, "holder", lateGrants: null));
        var outcome = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(outcome.Winner);
        Assert.Equal("waiter", node.Value(Key));
        Assert.Equal(before + 1, node.Commands);
        Assert.True(outcome.Winner.Validity > TimeSpan.Zero);
    }

    [Fact]
    public async Task Release_ChainsThroughLocalWaiters_EachInTurn_OneCommandEach()
    {
        var node = new FakeLockNode("node", _time, Grace);
        var (loop, queues) = Process(node);
        var hold = Holds.Exclusive(Key);
        Assert.NotNull((await loop.RunAsync(hold, "holder", Ttl, TimeSpan.Zero, CancellationToken.None)).Winner);
        var order = new ConcurrentQueue<string>();
        async Task TakeInTurnAsync(string id)
        {
            Assert.NotNull((await loop.RunAsync(hold, id, Ttl, TimeSpan.FromMinutes(1), CancellationToken.None)).Winner);
            order.Enqueue(id);
            await loop.ReleaseAsync(hold, id, lateGrants: null);
        }

        var waiters = new List<Task> { TakeInTurnAsync("w0") };
        Assert.True(await FakeClock.PollAsync(() => node.Commands == 4 && queues.HasOffer(hold))); // holder; w0: try, subscribe, in line
        for (var i = 1; i < 5; i++)
        {
            // Each call runs to its place in the local line before it returns: in order, without a command.
            waiters.Add(TakeInTurnAsync($"w{i}"));
        }

        var before = node.Commands;
        await loop.ReleaseAsync(hold, "holder", lateGrants: null);
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["w0", "w1", "w2", "w3", "w4"], order);
        Assert.Null(node.Value(Key));
        Assert.Equal(before + 6, node.Commands); // six releases, no attempt
    }

    [Fact]
    public async Task Release_WhenAnotherProcessIsFirstInLine_GivesItTheTurn_AndTheLocalWaiterSleepsOn()
    {
        var node = new FakeLockNode("node", _time, Grace);
        var (mine, myQueues) = Process(node);
        var (theirs, _) = Process(node);
        var hold = Holds.Exclusive(Key);
        Assert.NotNull((await mine.RunAsync(hold, "holder", Ttl, TimeSpan.Zero, CancellationToken.None)).Winner);
        var other = theirs.RunAsync(hold, "other", Ttl, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(await FakeClock.PollAsync(() => node.Commands == 4)); // holder; other: try, subscribe, in line
        var local = mine.RunAsync(hold, "local", Ttl, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(await FakeClock.PollAsync(() => myQueues.HasOffer(hold) && node.Commands == 7));

        await mine.ReleaseAsync(hold, "holder", lateGrants: null);

        Assert.NotNull((await other.WaitAsync(TimeSpan.FromSeconds(10))).Winner);
        await Task.Delay(100);
        Assert.False(local.IsCompleted);
        Assert.Equal(9, node.Commands); // the release and the other's claim: the local waiter did not ask
        Assert.True(myQueues.HasOffer(hold), "the local waiter sleeps on, offered again");

        await theirs.ReleaseAsync(hold, "other", lateGrants: null);
        Assert.NotNull((await local.WaitAsync(TimeSpan.FromSeconds(10))).Winner);
        Assert.Equal("local", node.Value(Key));
    }

    [Fact]
    public async Task Waiter_CancelledWhileAReleaseHandsItTheLock_GivesTheLockBack()
    {
        using var cancel = new CancellationTokenSource();
        var (node, loop, hold, waiting) = await HeldWithAWaiterOfferedAsync(cancel.Token);

        node.DeferAnswers = true;
        var before = node.Commands;
        var releasing = loop.ReleaseAsync(hold, "holder", lateGrants: null);
        Assert.True(await FakeClock.PollAsync(() => node.Commands == before + 1)); // the release ran; its answer waits
        await cancel.CancelAsync();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted, "a claimed waiter waits for the release's outcome");
        node.DeferAnswers = false;
        node.Wake();

        Assert.True(await releasing.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await FakeClock.PollAsync(() => node.Value(Key) is null), $"the lock handed to the cancelled waiter is given back (holds: {node.Value(Key)})");
    }

    [Fact]
    public async Task Release_NotAnsweredInTime_LetsTheWaiterLookAgain_AndALateHandoffIsGivenBack_BeforeTheManagerCloses()
    {
        var (node, loop, hold, waiting) = await HeldWithAWaiterOfferedAsync(CancellationToken.None);
        var started = _time.GetUtcNow();

        node.DeferAnswers = true;
        var before = node.Commands;
        var releasing = loop.ReleaseAsync(hold, "holder", lateGrants: null);
        Assert.True(await FakeClock.PollAsync(() => node.Commands == before + 1));
        _time.Advance(TimeSpan.FromSeconds(1)); // the node timeout
        await Assert.ThrowsAsync<LockBackendException>(() => releasing.WaitAsync(TimeSpan.FromSeconds(10)));

        // A manager closing now must wait for the give-back before its connections close.
        var idle = loop.InFlight.WhenIdleAsync(TimeSpan.FromMinutes(10), _time);
        Assert.False(idle.IsCompleted, "the give-back of a handoff answered late is not counted as work in flight");
        node.DeferAnswers = false;
        node.Wake();

        var outcome = await _time.AdvanceUntilDoneAsync(waiting, TimeSpan.FromMilliseconds(50));

        Assert.True(await FakeClock.PollAsync(() => idle.IsCompleted), "the give-back did not end");
        Assert.NotNull(outcome.Winner);
        Assert.Equal("waiter", node.Value(Key));
        Assert.True(_time.GetUtcNow() - started < TimeSpan.FromSeconds(10), "the waiter looked again, instead of sleeping to the holder's TTL");
    }

    [Fact]
    public async Task Release_WhoseHandoffRanButLostItsAnswer_GivesItBack_SoTheWaiterTakesTheLockBeforeItsTtl()
    {
        var (node, loop, hold, waiting) = await HeldWithAWaiterOfferedAsync(CancellationToken.None);
        var started = _time.GetUtcNow();

        // The handoff runs on the node, so the lock is the waiter's, but the release hears a fault.
        node.LoseAnswers = 1;
        await Assert.ThrowsAsync<LockBackendException>(() => loop.ReleaseAsync(hold, "holder", lateGrants: null).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, node.LoseAnswers);

        var outcome = await _time.AdvanceUntilDoneAsync(waiting, TimeSpan.FromMilliseconds(50));

        var took = _time.GetUtcNow() - started;
        Assert.NotNull(outcome.Winner);
        Assert.Equal("waiter", node.Value(Key));
        Assert.True(took < TimeSpan.FromSeconds(10), $"the waiter took the lock after {took.TotalSeconds:F1} s: the handoff it was not told of held it until its TTL ran out");
    }

    [Fact]
    public async Task Release_OverRedlockWithOneNodeSlow_HandsOverOnTheMajority_AndTheSlowNodesHandoffIsReleasedWithTheHold()
    {
        FakeLockNode[] nodes = [new("a", _time, Grace), new("b", _time, Grace), new("c", _time, Grace)];
        var (loop, queues) = Process(nodes);
        var hold = Holds.Exclusive(Key);
        Assert.NotNull((await loop.RunAsync(hold, "holder", Ttl, TimeSpan.Zero, CancellationToken.None)).Winner);
        var waiting = loop.RunAsync(hold, "waiter", Ttl, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(await FakeClock.PollAsync(() => nodes.All(n => n.Commands == 4) && queues.HasOffer(hold))); // holder; waiter: try, subscribe, in line

        // Node c runs the handoff, but its answer comes after the round was decided by a and b.
        nodes[2].DeferAnswers = true;
        Assert.True(await loop.ReleaseAsync(hold, "holder", lateGrants: null).WaitAsync(TimeSpan.FromSeconds(10)));
        var outcome = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(outcome.Winner);
        Assert.All(nodes, n => Assert.Equal("waiter", n.Value(Key)));
        Assert.True(outcome.Winner.Validity > TimeSpan.Zero);
        var lateGrants = LateGrants.Of(outcome.Winner.Round);
        Assert.NotNull(lateGrants);

        // The waiter's release covers c, whose handoff is its own late grant.
        Assert.True(await loop.ReleaseAsync(hold, "waiter", lateGrants).WaitAsync(TimeSpan.FromSeconds(10)));
        nodes[2].DeferAnswers = false;
        nodes[2].Wake();
        Assert.True(await FakeClock.PollAsync(() => nodes.All(n => n.Value(Key) is null)), "a node still holds the waiter's lock after its release");
    }

    /// <summary>One process on one node: "holder" holds, and "waiter" waits, offered to the holder's release.</summary>
    private async Task<(FakeLockNode Node, AcquireLoop Loop, Hold Hold, Task<AcquireOutcome> Waiting)> HeldWithAWaiterOfferedAsync(CancellationToken cancellationToken)
    {
        var node = new FakeLockNode("node", _time, Grace);
        var (loop, queues) = Process(node);
        var hold = Holds.Exclusive(Key);
        Assert.NotNull((await loop.RunAsync(hold, "holder", Ttl, TimeSpan.Zero, CancellationToken.None)).Winner);
        var waiting = loop.RunAsync(hold, "waiter", Ttl, TimeSpan.FromMinutes(1), cancellationToken);
        Assert.True(await FakeClock.PollAsync(() => node.Commands == 4 && queues.HasOffer(hold))); // holder; waiter: try, subscribe, in line
        return (node, loop, hold, waiting);
    }

    private (AcquireLoop Loop, WaitQueues Queues) Process(params FakeLockNode[] nodes)
    {
        var queues = new WaitQueues(nodes, TimeSpan.FromSeconds(1), _time);
        return (new AcquireLoop(new RedlockProtocol(nodes, TimeSpan.FromSeconds(1), 0.01, _time, NullLogger.Instance), queues, TimeSpan.FromSeconds(10), Grace, -1, NullLogger.Instance), queues);
    }
}
