using System.Collections.Concurrent;
using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// A Redlock attempt made on a wake can overtake the release on the other nodes: it takes its turn on
/// one node and is refused on another. What it took must stay its turn, and its own late grant must
/// not look like a holder to sleep on. (The reader-writer test over two live nodes of three failed so:
/// the writer, refused by its own grant, slept 10 s to its deadline while the undo of that grant
/// handed both nodes' turns to the readers behind it.)
/// </summary>
public sealed class TurnGiveBackTests
{
    private const string Key = "lock:{r}";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    // The handoff grace of the loop tests: a second, so that a waiter whose continuations the fake
    // clock outpaces (a busy thread pool) does not lose its turn, as it rightly would after it.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Acquire_RefusedByItsOwnLateGrant_ReportsNoHolderToSleepOn()
    {
        var node = new FakeLockNode("node", _time);
        node.Seed(Key, "me", TimeSpan.FromMinutes(5));

        var answer = await node.TryAcquireAsync(Key, "me", Ttl, queue: "q1");

        Assert.Equal(NodeReply.Denied, answer.Reply);
        Assert.Null(answer.HolderTtl);
        Assert.True(answer.OwnLateGrant);
    }

    [Fact]
    public async Task ReadAcquire_RefusedByItsOwnLateLease_ReportsNoHolderToSleepOn()
    {
        var node = new FakeLockNode("node", _time);
        var read = new ReadHold(Key);
        Assert.Equal(NodeReply.Granted, (await read.AcquireAsync(node, "me", Ttl, queue: string.Empty, stay: false, arrival: 0)).Reply);

        var answer = await read.AcquireAsync(node, "me", Ttl, queue: "read:q1", stay: false, arrival: 1);

        Assert.Equal(NodeReply.Denied, answer.Reply);
        Assert.Null(answer.HolderTtl);
        Assert.True(answer.OwnLateGrant);
    }

    [Fact]
    public async Task GiveBack_OfATurnTaken_ReservesItForTheQueueAgain_AndTheNextInLineIsNotWoken()
    {
        var node = new FakeLockNode("node", _time);
        var hold = Holds.Exclusive(Key);
        var wakes = new ConcurrentQueue<string>();
        var news = new ConcurrentQueue<string>();
        await using var first = await LockHold.Subscribe(node, Key, "q1", n => wakes.Enqueue("q1"), _ => { });
        await using var second = await LockHold.Subscribe(node, Key, "q2", n => wakes.Enqueue("q2"), news.Enqueue);
        node.Seed(Key, "other", TimeSpan.FromMinutes(5));
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "a", Ttl, queue: "q1")).Reply);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "b", Ttl, queue: "q2")).Reply);
        await node.ReleaseAsync(Key, "other");
        Assert.True(await FakeClock.PollAsync(() => wakes.Count == 1));

        var taken = await node.TryAcquireAsync(Key, "a", Ttl, queue: "q1");
        Assert.Equal(NodeReply.Granted, taken.Reply);
        Assert.True(taken.TookTurn);

        Assert.Equal(NodeReply.Granted, (await hold.GiveBackAsync(node, "a", "q1", TimeSpan.FromMilliseconds(20), ReleaseNotice.New("a"))).Reply);

        Assert.Equal(LockKeyLayout.ReservedPrefix + "q1", node.Value(Key));
        Assert.True(await FakeClock.PollAsync(() => news.Contains("h:20")));
        Assert.Equal(["q1"], wakes);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "b", Ttl, queue: "q2")).Reply);
        _time.Advance(TimeSpan.FromMilliseconds(19));
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(Key, "a", Ttl, queue: "q1")).Reply);

        // For what was left of the turn, no longer.
        Assert.Equal(NodeReply.Granted, (await hold.GiveBackAsync(node, "a", "q1", TimeSpan.FromMilliseconds(5), ReleaseNotice.New("a"))).Reply);
        _time.Advance(TimeSpan.FromMilliseconds(4));
        Assert.Equal(LockKeyLayout.ReservedPrefix + "q1", node.Value(Key));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(node.Value(Key));
    }

    [Fact]
    public async Task GiveBack_OfAReadersTurn_ReservesItForTheirQueueAgain()
    {
        var node = new FakeLockNode("node", _time);
        var read = new ReadHold(Key);
        var wakes = new ConcurrentQueue<string>();
        await using var readers = await LockHold.Subscribe(node, Key, "read:q1", n => wakes.Enqueue("read:q1"), _ => { });
        await using var writer = await LockHold.Subscribe(node, Key, "q2", n => wakes.Enqueue("q2"), _ => { });
        node.Seed(Key, "other", TimeSpan.FromMinutes(5));
        Assert.Equal(NodeReply.Denied, (await read.AcquireAsync(node, "r", Ttl, "read:q1", stay: false, arrival: 1)).Reply);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "w", Ttl, queue: "q2")).Reply);
        await node.ReleaseAsync(Key, "other");
        Assert.True(await FakeClock.PollAsync(() => wakes.Count == 1));

        var taken = await read.AcquireAsync(node, "r", Ttl, "read:q1", stay: false, arrival: 1);
        Assert.Equal(NodeReply.Granted, taken.Reply);
        Assert.True(taken.TookTurn);
        Assert.Equal(NodeReply.Granted, (await read.GiveBackAsync(node, "r", "read:q1", TimeSpan.FromMilliseconds(20), ReleaseNotice.New("r"))).Reply);

        Assert.Equal(LockKeyLayout.ReservedPrefix + "read:q1", node.Value(Key));
        Assert.Equal(["read:q1"], wakes);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "w", Ttl, queue: "q2")).Reply);
        Assert.Equal(NodeReply.Granted, (await read.AcquireAsync(node, "r", Ttl, "read:q1", stay: false, arrival: 1)).Reply);
    }

    [Fact]
    public async Task Run_Redlock_WriterWhoseTurnsComeBackLate_TakesThemBeforeTheReaderBehindIt()
    {
        // Two live nodes of three (the writer needs both), as in the trace of the failing test:
        // the writer's first attempt on a wake is refused on b (the release has not landed), and
        // its grant on a answers late. The round waits for it (with c down, a failure on a would
        // make an outage, not a busy lock), then gives the turn it took on a back to the writer.
        var a = new FakeLockNode("a", _time, Grace);
        var b = new FakeLockNode("b", _time, Grace);
        var nodes = new[] { a, b, new FakeLockNode("c", _time, Grace) { Down = true } };
        a.Seed(Key, "other", TimeSpan.FromMinutes(5));
        b.Seed(Key, "other", TimeSpan.FromMinutes(5));
        var writing = Loop(nodes).RunAsync(Holds.Exclusive(Key), "writer", Ttl, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(await FakeClock.PollAsync(() => a.Commands == 3 && b.Commands == 3)); // try, subscribe, in line
        var reading = Loop(nodes).RunAsync(new ReadHold(Key), "reader", Ttl, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(await FakeClock.PollAsync(() => a.Commands == 6 && b.Commands == 6));

        var notice = ReleaseNotice.New("other");
        a.DeferAnswers = true;
        _ = a.ReleaseAsync(Key, "other", notice);
        Assert.True(await FakeClock.PollAsync(() => b.Commands == 7)); // the woken writer's attempt
        await b.ReleaseAsync(Key, "other", notice);
        a.DeferAnswers = false;
        a.Wake();
        var woken = _time.GetUtcNow();

        var outcome = await _time.AdvanceUntilDoneAsync(writing, TimeSpan.FromMilliseconds(5));

        Assert.NotNull(outcome.Winner);
        Assert.False(reading.IsCompleted, "the reader behind the writer got in first");
        Assert.True(_time.GetUtcNow() - woken < TimeSpan.FromSeconds(2), $"the writer took {_time.GetUtcNow() - woken}, not a quarter of the grace (RetryDelay: 5-10 s)");
        await new RedlockProtocol(nodes, TimeSpan.FromSeconds(1), 0.01, _time, NullLogger.Instance).ReleaseAsync(Holds.Exclusive(Key), "writer");
        Assert.NotNull((await _time.AdvanceUntilDoneAsync(reading, TimeSpan.FromMilliseconds(5))).Winner);
    }

    /// <summary>A process of its own: its protocol, wait queues and loop over <paramref name="nodes"/>, with RetryDelay 10 s.</summary>
    private AcquireLoop Loop(FakeLockNode[] nodes) => new(
        new RedlockProtocol(nodes, TimeSpan.FromSeconds(1), 0.01, _time, NullLogger.Instance),
        new WaitQueues(nodes, TimeSpan.FromSeconds(1), _time),
        TimeSpan.FromSeconds(10),
        Grace,
        -1,
        NullLogger.Instance);
}
