using DistLock.Algorithm;
using DistLock.Tests.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Transport;

/// <summary>
/// Where a queue joins a line: at its attempt's arrival stamp, so that every node has the queues in
/// one order, but never more than a second before the last in line, so that a process whose clock is
/// behind cannot go ahead of everyone who came lately. Run on the in-memory node, which runs the
/// scripts themselves; the scripts' Redis side is covered by the integration suites.
/// </summary>
public sealed class LineArrivalTests
{
    private const string Key = "lock:{r}";
    private const long Second = 10_000;
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    [Theory]
    [InlineData(2 * Second, 1, new[] { "late", "behind", "early" })]
    [InlineData(Second / 2, (1_000 * Second) - 1, new[] { "behind", "late", "early" })]
    public async Task Join_AtItsStamp_ButNoMoreThanASecondBeforeTheLast(long earlyAfterLate, long behindStamp, string[] order)
    {
        // "late" and "early" are in line (stamps 1,000 s and later); "behind" comes in last with a
        // stamp below theirs: far below (a clock that is behind), or within a second (an attempt that
        // reached this node after theirs, though it was sent first).
        var node = new FakeLockNode("node", _time);
        node.Seed(Key, "holder", Ttl);
        var hold = new LockHold(Key, LockMode.Exclusive);
        var listening = new List<INodeSubscription>();
        foreach (var (queue, stamp) in new[] { ("late", 1_000 * Second), ("early", (1_000 * Second) + earlyAfterLate), ("behind", behindStamp) })
        {
            listening.Add(await hold.SubscribeAsync(node, queue, _ => { }, _ => { }));
            Assert.Equal(NodeReply.Denied, (await hold.AcquireAsync(node, $"{queue}-id", Ttl, queue, stay: false, arrival: stamp)).Reply);
        }

        var served = new List<string?>();
        await node.ReleaseAsync(Key, "holder");
        for (var i = 0; i < order.Length; i++)
        {
            var value = node.Value(Key);
            served.Add(value?[LockKeyLayout.ReservedPrefix.Length..]);
            await hold.LeaveAsync(node, served[^1]!, ReleaseNotice.New(served[^1]!));
        }

        Assert.Equal(order, served);
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
        const string A = "lock:{a}", B = "lock:{b}";
        var node = new FakeLockNode("node", _time);
        node.Seed(A, "holder-a", Ttl);
        node.Seed(B, "holder-b", Ttl);
        var set = new MultiHold([A, B]);
        var single = new LockHold(B, LockMode.Exclusive);
        await using var setListens = await set.SubscribeAsync(node, "set-queue", _ => { }, _ => { });
        await using var singleListens = await single.SubscribeAsync(node, "single-queue", _ => { }, _ => { });
        Assert.Equal(NodeReply.Denied, (await set.AcquireAsync(node, "set-id", Ttl, "set-queue", stay: false, arrival: 1_000 * Second)).Reply);
        Assert.Equal(NodeReply.Denied, (await single.AcquireAsync(node, "single-id", Ttl, "single-queue", stay: false, arrival: 1_000 * Second)).Reply);

        await node.ReleaseAsync(B, "holder-b");
        Assert.Equal(LockKeyLayout.ReservedPrefix + "set-queue", node.Value(B));
        Assert.Equal(NodeReply.Denied, (await set.AcquireAsync(node, "set-id", Ttl, "set-queue", stay: false, arrival: 1_001 * Second)).Reply);

        Assert.Equal(LockKeyLayout.ReservedPrefix + "single-queue", node.Value(B));
    }
}
