using DistLock.Algorithm;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

public sealed class FencingTests
{
    private const string Key = "lock:{r}";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task SuccessiveHolders_OnOneNode_GetIncreasingTokens()
    {
        var (quorum, _) = Create(1);
        var tokens = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var value = $"owner{i}";
            var result = await quorum.TryAcquireOnceAsync(LockTarget.Exclusive(Key), value, Ttl);
            tokens.Add(result.Fence);
            Assert.True(await quorum.ReleaseAsync(LockTarget.Exclusive(Key), value));
        }

        // Values start at the clock floor (next-fence.lua); what matters is that each is higher.
        Assert.All(tokens.Zip(tokens.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"{pair.Second} after {pair.First}"));
    }

    [Fact]
    public async Task Redlock_CountersInStep_TakesTheCommonTokenWithoutAnotherRoundTrip()
    {
        var (quorum, nodes) = Create(3);

        var result = await quorum.TryAcquireOnceAsync(LockTarget.Exclusive(Key), "a", Ttl);

        Assert.True(result.Fence > 0);
        Assert.All(nodes, node => Assert.Equal(result.Fence, node.Fence(Key)));
        Assert.All(nodes, node => Assert.Equal(1, node.Commands));
    }

    [Fact]
    public async Task Redlock_OneCounterAhead_RaisesTheOthersThatGranted()
    {
        // Answers complete at once, so the round decides on nodes 0 and 1.
        var (quorum, nodes) = Create(3);
        var ahead = AheadOfTheClockFloor();
        nodes[0].SetFence(Key, ahead);

        var result = await quorum.TryAcquireOnceAsync(LockTarget.Exclusive(Key), "a", Ttl);

        Assert.Equal(ahead + 1, result.Fence);
        Assert.Equal(ahead + 1, nodes[0].Fence(Key));
        Assert.Equal(ahead + 1, nodes[1].Fence(Key));

        // The node the round did not wait for is raised in the background, so the counters converge.
        Assert.True(await FakeClock.PollAsync(() => nodes[2].Fence(Key) == ahead + 1));
    }

    [Fact]
    public async Task Redlock_HighestTokenFromANodeThatLaterFails_NextMajorityWithoutItStillIssuesMore()
    {
        // The ahead node grants the first holder and then goes away: the floor it set on the
        // others is what keeps the next holder's token above the first one's.
        var (quorum, nodes) = Create(3);
        var ahead = AheadOfTheClockFloor();
        nodes[0].SetFence(Key, ahead);
        var first = await quorum.TryAcquireOnceAsync(LockTarget.Exclusive(Key), "a", Ttl);
        Assert.True(await quorum.ReleaseAsync(LockTarget.Exclusive(Key), "a"));
        nodes[0].Down = true;

        var second = await quorum.TryAcquireOnceAsync(LockTarget.Exclusive(Key), "b", Ttl);

        Assert.Equal(ahead + 1, first.Fence);
        Assert.True(second.Acquired);
        Assert.True(second.Fence > first.Fence, $"{second.Fence} after {first.Fence}");
    }

    [Fact]
    public async Task Redlock_FloorCannotReachAMajority_AttemptFailsAndLeavesNoKey()
    {
        var (quorum, nodes) = Create(3);
        nodes[0].SetFence(Key, AheadOfTheClockFloor());
        nodes[1].FailFenceRaise = true;

        var result = await quorum.TryAcquireOnceAsync(LockTarget.Exclusive(Key), "a", Ttl);

        Assert.False(result.Acquired);
        Assert.NotNull(result.BackendError);
        Assert.True(await FakeClock.PollAsync(() => !nodes.Any(n => n.Holds(Key))));
    }

    /// <summary>
    /// A counter an hour above the clock floor, as a node has it after issuing tokens under a clock
    /// that ran fast: the other nodes' tokens start at the floor, so only a raise brings them level.
    /// </summary>
    private long AheadOfTheClockFloor() => (_time.GetUtcNow() + TimeSpan.FromHours(1) - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    private (RedlockProtocol Lock, FakeLockNode[] Nodes) Create(int count)
    {
        var nodes = Enumerable.Range(0, count).Select(i => new FakeLockNode($"node{i}", _time)).ToArray();
        return (new RedlockProtocol(nodes, TimeSpan.FromMilliseconds(50), 0.01, _time, NullLogger.Instance), nodes);
    }
}
