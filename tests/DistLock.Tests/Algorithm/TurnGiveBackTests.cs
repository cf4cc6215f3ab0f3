using System.Collections.Concurrent;
using DistLock.Algorithm;
using DistLock.Transport;
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
        Assert.Equal(NodeReply.Granted, (await read.AcquireAsync(node, "me", Ttl, queue: string.Empty, stay: false)).Reply);

        var answer = await read.AcquireAsync(node, "me", Ttl, queue: "read:q1", stay: false);

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
        Assert.InRange(taken.Turn!.Value, TimeSpan.FromMilliseconds(1), new LockManagerOptions().HandoffGrace);

        Assert.Equal(NodeReply.Granted, (await hold.GiveBackAsync(node, "a", "q1", taken.Turn.Value, ReleaseNotice.New("a"))).Reply);

        Assert.Equal(LockKeyLayout.ReservedPrefix + "q1", node.Value(Key));
        Assert.True(await FakeClock.PollAsync(() => news.Contains($"h:{(long)taken.Turn.Value.TotalMilliseconds}")));
        Assert.Equal(["q1"], wakes);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "b", Ttl, queue: "q2")).Reply);
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(Key, "a", Ttl, queue: "q1")).Reply);
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
        Assert.Equal(NodeReply.Denied, (await read.AcquireAsync(node, "r", Ttl, "read:q1", stay: false)).Reply);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "w", Ttl, queue: "q2")).Reply);
        await node.ReleaseAsync(Key, "other");
        Assert.True(await FakeClock.PollAsync(() => wakes.Count == 1));

        var taken = await read.AcquireAsync(node, "r", Ttl, "read:q1", stay: false);
        Assert.Equal(NodeReply.Granted, taken.Reply);
        Assert.NotNull(taken.Turn);
        Assert.Equal(NodeReply.Granted, (await read.GiveBackAsync(node, "r", "read:q1", taken.Turn.Value, ReleaseNotice.New("r"))).Reply);

        Assert.Equal(LockKeyLayout.ReservedPrefix + "read:q1", node.Value(Key));
        Assert.Equal(["read:q1"], wakes);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(Key, "w", Ttl, queue: "q2")).Reply);
        Assert.Equal(NodeReply.Granted, (await read.AcquireAsync(node, "r", Ttl, "read:q1", stay: false)).Reply);
    }
}
