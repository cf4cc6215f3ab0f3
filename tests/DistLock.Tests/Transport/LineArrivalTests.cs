using DistLock.Algorithm;
using DistLock.Tests.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Transport;

/// <summary>
/// Where a queue joins a line: at its attempt's arrival stamp, so that every node has the queues in
/// one order, but held within a tenth of a second of the node's clock, so that a process whose clock
/// is off goes ahead of (or behind) no more than that of the others' arrivals. Run on the in-memory
/// node, which runs the scripts themselves on the test's clock; the Redis side is covered by the
/// integration suites.
/// </summary>
public sealed class LineArrivalTests
{
    private const long Second = 10_000;
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    /// <summary>The node's clock, in the stamps' units (tenths of a millisecond).</summary>
    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds() * 10;

    [Theory]
    [InlineData(-10 * Second, Second / 5, new[] { "earlier", "skewed", "later" })] // a clock 10 s behind: 0.1 s before now, after who came 0.2 s ago
    [InlineData(-Second / 20, Second / 50, new[] { "skewed", "earlier", "later" })] // 50 ms behind (a slow path to this node): its own stamp, before who came 20 ms ago
    [InlineData(10 * Second, Second / 5, new[] { "earlier", "skewed", "later" })] // a clock 10 s ahead: 0.1 s after now, before who comes 0.2 s later
    public async Task Join_AtItsStamp_HeldWithinATenthOfASecondOfTheNodesClock(long skew, long earlierAgo, string[] order)
    {
        const string Key = "lock:{r}";
        var node = new FakeLockNode("node", _time);
        node.Seed(Key, "holder", Ttl);
        var hold = new LockHold(Key, LockMode.Exclusive);
        var listening = new List<INodeSubscription>();
        async Task JoinAsync(string queue, long stamp)
        {
            listening.Add(await hold.SubscribeAsync(node, queue, _ => { }, _ => { }));
            Assert.Equal(NodeReply.Denied, (await hold.AcquireAsync(node, $"{queue}-id", Ttl, queue, stay: false, arrival: stamp)).Reply);
        }

        // "earlier" came `earlierAgo`; "skewed" comes now, its clock off by `skew`; "later" 0.2 s on.
        await JoinAsync("earlier", Now - earlierAgo);
        await JoinAsync("skewed", Now + skew);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await JoinAsync("later", Now);

        // The order of their turns: each served queue leaves, handing its turn to the next.
        var served = new List<string?>();
        await node.ReleaseAsync(Key, "holder");
        for (var i = 0; i < order.Length; i++)
        {
            served.Add(node.Value(Key)?[LockKeyLayout.ReservedPrefix.Length..]);
            await hold.LeaveAsync(node, served[^1]!, ReleaseNotice.New(served[^1]!));
        }

        Assert.Equal(order, served);
        foreach (var subscription in listening)
        {
            await subscription.DisposeAsync();
        }
    }

    [Fact]
    public async Task AQueueTakingTheHoldFromTheHeadOfTheLine_WithMoreWaiters_GoesToTheEnd()
    {
        // Its process has more waiters, so it stays in line; behind the others, as a queue woken
        // from the line does. Kept at the head, its next waiter would be first again; and on
        // Redlock a queue that took one node's turn from the head of that node's line, while
        // woken from another's, would stand at two places.
        const string Key = "lock:{r}";
        var node = new FakeLockNode("node", _time);
        node.Seed(Key, "holder", TimeSpan.FromSeconds(1));
        var hold = new LockHold(Key, LockMode.Exclusive);
        var listening = new List<INodeSubscription>();
        foreach (var queue in new[] { "first", "second" })
        {
            listening.Add(await hold.SubscribeAsync(node, queue, _ => { }, _ => { }));
            Assert.Equal(NodeReply.Denied, (await hold.AcquireAsync(node, $"{queue}-id", Ttl, queue, stay: false, arrival: ArrivalStamp.Next(_time))).Reply);
        }

        // The holder's lease runs out: the lock is free, and "first" is first in line.
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(NodeReply.Granted, (await hold.AcquireAsync(node, "first-id", Ttl, "first", stay: true, arrival: ArrivalStamp.Next(_time))).Reply);

        Assert.Equal(["second", "first"], node.Line(Key));
        foreach (var subscription in listening)
        {
            await subscription.DisposeAsync();
        }
    }

    [Fact]
    public async Task ASetHandsOnATurn_ToAQueueBehindItWithTheSameStamp()
    {
        // Two processes' stamps can be equal; the line then orders them by name. The set cannot use
        // b while a is held, so the turn b's release handed to it goes to the queue behind it.
        var line = await SetAndSingleAsync("single-queue");
        await line.SetLooksAsync(Now);
        await line.SingleLooksAsync(Now);

        await line.Node.ReleaseAsync(line.B, "holder-b");
        Assert.Equal(LockKeyLayout.ReservedPrefix + "set-queue", line.Node.Value(line.B));
        await line.SetLooksAsync(Now + 1);

        Assert.Equal(LockKeyLayout.ReservedPrefix + "single-queue", line.Node.Value(line.B));
        await line.DisposeAsync();
    }

    [Fact]
    public async Task ASetGivingUpATurn_WithNobodyBehind_TellsTheQueuesAheadToLookAgain()
    {
        // The set got b's turn; a single waiter then came in with the same stamp, ahead of it by name,
        // and slept on that turn. The set, held back by a, gives b up: the waiter must hear of it.
        var line = await SetAndSingleAsync("early-queue");
        var stamp = Now;
        await line.SetLooksAsync(stamp);
        await line.Node.ReleaseAsync(line.B, "holder-b");
        Assert.Equal(LockKeyLayout.ReservedPrefix + "set-queue", line.Node.Value(line.B));
        await line.SingleLooksAsync(stamp);
        line.News.Clear();

        await line.SetLooksAsync(stamp + 1);

        Assert.Null(line.Node.Value(line.B));
        Assert.True(await FakeClock.PollAsync(() => line.News.Contains("h:0")), "the waiter ahead never heard to look again");
        await line.DisposeAsync();
    }

    /// <summary>
    /// Locks a and b, each held; a waiting set {a, b} ("set-queue") and a single waiter on b
    /// (<paramref name="singleQueue"/>, whose line news is kept), both listening.
    /// </summary>
    private async Task<SetAndSingle> SetAndSingleAsync(string singleQueue)
    {
        var node = new FakeLockNode("node", _time);
        var line = new SetAndSingle(node, singleQueue);
        node.Seed(line.A, "holder-a", Ttl);
        node.Seed(line.B, "holder-b", Ttl);
        line.Listening.Add(await line.Set.SubscribeAsync(node, "set-queue", _ => { }, _ => { }));
        line.Listening.Add(await line.Single.SubscribeAsync(node, singleQueue, _ => { }, line.News.Add));
        return line;
    }

    private sealed class SetAndSingle(FakeLockNode node, string singleQueue) : IAsyncDisposable
    {
        public string A => "lock:{a}";

        public string B => "lock:{b}";

        public FakeLockNode Node => node;

        public MultiHold Set { get; } = new(["lock:{a}", "lock:{b}"]);

        public LockHold Single { get; } = new("lock:{b}", LockMode.Exclusive);

        public System.Collections.Concurrent.ConcurrentBag<string> News { get; } = [];

        public List<INodeSubscription> Listening { get; } = [];

        public async Task SetLooksAsync(long stamp) =>
            Assert.Equal(NodeReply.Denied, (await Set.AcquireAsync(node, "set-id", Ttl, "set-queue", stay: false, arrival: stamp)).Reply);

        public async Task SingleLooksAsync(long stamp) =>
            Assert.Equal(NodeReply.Denied, (await Single.AcquireAsync(node, "single-id", Ttl, singleQueue, stay: false, arrival: stamp)).Reply);

        public async ValueTask DisposeAsync()
        {
            foreach (var subscription in Listening)
            {
                await subscription.DisposeAsync();
            }
        }
    }
}
