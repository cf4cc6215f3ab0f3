using DistLock.Algorithm;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>Fencing tokens on demand: issued to a hold while it is held, agreed by a majority.</summary>
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
            Assert.True((await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), value, Ttl)).Acquired);
            tokens.Add((await quorum.IssueFenceAsync(Holds.Exclusive(Key), value))!.Value);
            Assert.True(await quorum.ReleaseAsync(Holds.Exclusive(Key), value));
        }

        // Values start at the clock floor (next-fence.lua); what matters is that each is higher.
        Assert.All(tokens.Zip(tokens.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"{pair.Second} after {pair.First}"));
    }

    [Fact]
    public async Task Acquire_IssuesNoToken_AndANonHolderGetsNone()
    {
        var (quorum, nodes) = Create(1);
        Assert.True((await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), "a", Ttl)).Acquired);

        Assert.Equal(0, nodes[0].Fence(Key));
        Assert.Null(await quorum.IssueFenceAsync(Holds.Exclusive(Key), "someone-else"));
        Assert.Equal(0, nodes[0].Fence(Key));
    }

    [Fact]
    public async Task Redlock_CountersInStep_TakesTheCommonTokenWithoutAnotherRoundTrip()
    {
        var (quorum, nodes) = Create(3);
        Assert.True((await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), "a", Ttl)).Acquired);

        var token = await quorum.IssueFenceAsync(Holds.Exclusive(Key), "a");

        Assert.True(token > 0);
        Assert.All(nodes, node => Assert.Equal(token, node.Fence(Key)));
        Assert.All(nodes, node => Assert.Equal(2, node.Commands));
    }

    [Fact]
    public async Task Redlock_OneCounterAhead_RaisesTheOthersThatIssuedOne()
    {
        // Answers complete at once, so the round decides on nodes 0 and 1.
        var (quorum, nodes) = Create(3);
        var ahead = AheadOfTheClockFloor();
        nodes[0].SetFence(Key, ahead);
        Assert.True((await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), "a", Ttl)).Acquired);

        var token = await quorum.IssueFenceAsync(Holds.Exclusive(Key), "a");

        Assert.Equal(ahead + 1, token);
        Assert.Equal(ahead + 1, nodes[0].Fence(Key));
        Assert.Equal(ahead + 1, nodes[1].Fence(Key));

        // The node the round did not wait for is raised in the background, so the counters converge.
        Assert.True(await FakeClock.PollAsync(() => nodes[2].Fence(Key) == ahead + 1));
    }

    [Fact]
    public async Task Redlock_HighestTokenFromANodeThatLaterFails_NextMajorityWithoutItStillIssuesMore()
    {
        // The ahead node gives the first holder its token and then goes away: the floor it set on
        // the others is what keeps the next holder's token above the first one's.
        var (quorum, nodes) = Create(3);
        var ahead = AheadOfTheClockFloor();
        nodes[0].SetFence(Key, ahead);
        Assert.True((await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), "a", Ttl)).Acquired);
        var first = await quorum.IssueFenceAsync(Holds.Exclusive(Key), "a");
        Assert.True(await quorum.ReleaseAsync(Holds.Exclusive(Key), "a"));
        nodes[0].Down = true;

        Assert.True((await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), "b", Ttl)).Acquired);
        var second = await quorum.IssueFenceAsync(Holds.Exclusive(Key), "b");

        Assert.Equal(ahead + 1, first);
        Assert.True(second > first, $"{second} after {first}");
    }

    [Fact]
    public async Task Redlock_FloorCannotReachAMajority_NoTokenIsGiven()
    {
        var (quorum, nodes) = Create(3);
        nodes[0].SetFence(Key, AheadOfTheClockFloor());
        nodes[1].FailFenceRaise = true;
        Assert.True((await quorum.TryAcquireOnceAsync(Holds.Exclusive(Key), "a", Ttl)).Acquired);

        Assert.Null(await quorum.IssueFenceAsync(Holds.Exclusive(Key), "a"));
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
