using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.Transport;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests;

/// <summary>
/// A set that waits keeps the members before the one it waits for (docs/design.md, "Several
/// resources at once"). When its process dies meanwhile, nobody is left to take them or let them
/// go: the kept member's other waiters must get it within seconds, not the held member's TTL.
/// </summary>
public abstract class DeadSetWaiterTests
{
    // The held member's TTL is 30 s (the default): a waiter that slept to it is told apart from one
    // that waited a keep of the set's (2 s) and a grace. A NodeTimeout of 5 s: no case here is about
    // a slow node, and on a loaded machine a first call past the default 1 s failed the set's wait.
    private static readonly RedisLockManagerOptions Options = new()
    {
        NodeTimeout = TimeSpan.FromSeconds(5),
        HandoffGrace = TimeSpan.FromMilliseconds(200),
        Defaults = { Ttl = TimeSpan.FromSeconds(30) },
    };
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly RedisNodesFixture _nodes;
    private readonly ITestOutputHelper _output;

    protected DeadSetWaiterTests(RedisNodesFixture nodes, ITestOutputHelper output)
    {
        _nodes = nodes;
        _output = output;
    }

    [Fact]
    public async Task ASetThatDiesWhileItKeepsAMember_CostsThatMembersOtherWaitersSeconds_NotTheHeldMembersTtl()
    {
        var run = Guid.NewGuid().ToString("N");
        string kept = $"dead-set:{run}:a", held = $"dead-set:{run}:b";
        var layout = new LockKeyLayout(Options.KeyPrefix);
        await using var holder = await _nodes.ConnectAsync(Options);
        await using var waiter = await _nodes.ConnectAsync(Options);
        await using var blocker = await holder.AcquireAsync(held);

        // The set's process: a manager on connections of its own, closed under it to stand for a
        // process that is gone (no leave is sent, nobody listens on its channels any more).
        var connections = await Task.WhenAll(_nodes.Endpoints.Select(e => ConnectionMultiplexer.ConnectAsync(e)));
        var doomed = new RedisLockManager(connections, Options);
        var began = Stopwatch.StartNew();
        var set = doomed.AcquireAllAsync([kept, held], TimeSpan.FromMinutes(2));
        _ = set.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        await OnAMajorityAsync(
            async db => set.IsCompleted || ((string?)await db.StringGetAsync(layout.LockKey(kept)))?.StartsWith(LockKeyLayout.ReservedPrefix, StringComparison.Ordinal) == true,
            "the set never kept its first member");
        Assert.False(set.IsCompleted, $"the set's wait ended before it kept its first member: {set.Exception?.InnerException}");
        _output.WriteLine($"{began.ElapsedMilliseconds} ms: the set keeps {kept}");

        var single = waiter.AcquireAsync(kept, TimeSpan.FromSeconds(20));
        await OnAMajorityAsync(async db => await db.SortedSetLengthAsync(LockKeyLayout.WaitersKey(layout.LockKey(kept))) >= 2,
            "the single waiter never joined the kept member's line");
        _output.WriteLine($"{began.ElapsedMilliseconds} ms: the single waiter is in line behind the set");

        foreach (var connection in connections)
        {
            await connection.CloseAsync(allowCommandsToComplete: false);
        }

        var died = Stopwatch.StartNew();
        await using var handle = await single;
        _output.WriteLine($"the waiter behind a dead set took the kept member {died.ElapsedMilliseconds} ms after the set's process went (held member's TTL 30 s)");
        Assert.True(died.Elapsed < TimeSpan.FromSeconds(10), $"the waiter behind a dead set took the kept member {died.Elapsed} after the set's process went");

        var closing = Stopwatch.StartNew();
        await doomed.DisposeAsync();
        _output.WriteLine($"the dead set's manager closed in {closing.ElapsedMilliseconds} ms");
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    private async Task OnAMajorityAsync(Func<IDatabase, Task<bool>> condition, string failure)
    {
        var majority = _nodes.Inspectors.Count / 2 + 1;
        var met = await Eventually.TrueWithinAsync(Patience, async () =>
            (await Task.WhenAll(_nodes.Inspectors.Select(n => condition(n.GetDatabase())))).Count(c => c) >= majority);
        Assert.True(met, failure);
    }
}
