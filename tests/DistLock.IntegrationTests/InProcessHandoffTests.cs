using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;
using DistLock.Transport;

namespace DistLock.IntegrationTests;

/// <summary>
/// On a real redis-server: a release hands the lock straight to the next waiter of its own manager
/// (docs/design.md, the handoff), so the handoff is the release's one script call; the waiter sends
/// nothing, and the lock is its own from the release on.
/// </summary>
public sealed class InProcessHandoffTests
{
    private static readonly RedisLockManagerOptions Options = new() { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { Ttl = TimeSpan.FromSeconds(30) } };

    [Fact]
    public async Task Release_WithALocalWaiterNext_HandsItTheLockInTheReleaseItself()
    {
        await using var server = await RedisServer.StartAsync();
        await using var admin = await server.ConnectAsync(",allowAdmin=true");
        var redis = admin.GetServer(server.Endpoint);
        await CommandStats.LoadScriptsAsync(redis);
        await using var locks = await RedisLockManager.ConnectAsync(server.Endpoint, Options);
        var resource = "handoff-" + Guid.NewGuid().ToString("N");
        var hold = new LockHold(new LockKeyLayout(Options.KeyPrefix).LockKey(resource), LockMode.Exclusive);

        for (var round = 0; round < 3; round++)
        {
            var held = await locks.AcquireAsync(resource);
            var waiting = locks.AcquireAsync(resource, TimeSpan.FromSeconds(30));
            Assert.True(await AsleepInLineAsync(admin, locks, hold, queues: 1));
            var before = await CommandStats.OfAsync(redis);

            Assert.True(await held.ReleaseAsync());
            await using var next = await waiting;
            var after = await CommandStats.OfAsync(redis);

            Assert.Equal(1, after.Ran("evalsha") - before.Ran("evalsha"));
            Assert.Equal(0, after.Ran("eval") - before.Ran("eval"));
            Assert.Equal(next.HolderId, (string?)await admin.GetDatabase().StringGetAsync(hold.Key));
            Assert.True(next.Validity > TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task Release_OverRedlockWithALocalWaiterNext_HandsItTheLockOnEveryNodeInTheReleaseItself()
    {
        var servers = await RedisServer.StartManyAsync(3);
        await using var cleanup = new StartedServers(servers);
        var admins = new List<StackExchange.Redis.ConnectionMultiplexer>();
        foreach (var server in servers)
        {
            admins.Add(await server.ConnectAsync(",allowAdmin=true"));
            await CommandStats.LoadScriptsAsync(admins[^1].GetServer(server.Endpoint));
        }

        await using var locks = await RedisLockManager.ConnectAsync(servers.Select(s => s.Endpoint).ToArray(), Options);
        var resource = "handoff-" + Guid.NewGuid().ToString("N");
        var hold = new LockHold(new LockKeyLayout(Options.KeyPrefix).LockKey(resource), LockMode.Exclusive);
        try
        {
            // Two local waiters, so that the queue stays in line (a queue whose last waiter took the
            // hold leaves every node's line: a command more). The second comes once the first sleeps
            // in line, and then joins the local queue behind it without a command.
            var holder = await locks.AcquireAsync(resource);
            Assert.True(await EveryNode.HoldsAsync(admins, hold.Key, holder.HolderId));
            var first = locks.AcquireAsync(resource, TimeSpan.FromSeconds(30));
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
                (await Task.WhenAll(admins.Select(a => a.GetDatabase().SortedSetLengthAsync(LockKeyLayout.WaitersKey(hold.Key))))).All(n => n == 1)
                && locks.Waiters.HasOffer(hold)));
            var second = locks.AcquireAsync(resource, TimeSpan.FromSeconds(30));
            foreach (var waiting in new[] { first, second })
            {
                Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(locks.Waiters.HasOffer(hold))));
                var before = await Task.WhenAll(admins.Select((a, i) => CommandStats.OfAsync(a.GetServer(servers[i].Endpoint))));

                Assert.True(await holder.ReleaseAsync());
                holder = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
                // The round returns at a majority: wait for the last node's answer.
                Assert.True(await EveryNode.HoldsAsync(admins, hold.Key, holder.HolderId));
                var after = await Task.WhenAll(admins.Select((a, i) => CommandStats.OfAsync(a.GetServer(servers[i].Endpoint))));

                if (waiting == first)
                {
                    for (var i = 0; i < servers.Length; i++)
                    {
                        Assert.Equal(1, after[i].Ran("evalsha") - before[i].Ran("evalsha"));
                        Assert.Equal(0, after[i].Ran("eval") - before[i].Ran("eval"));
                    }
                }

                Assert.True(holder.Validity > TimeSpan.FromSeconds(20));
            }

            Assert.True(await holder.ReleaseAsync());
        }
        finally
        {
            foreach (var admin in admins)
            {
                await admin.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Release_OverRedlockHandingOverOnAMinorityOnly_GivesThatBack_AndTheWaiterTakesTheLockAfterTheRivalsTurn()
    {
        var servers = await RedisServer.StartManyAsync(3);
        await using var cleanup = new StartedServers(servers);
        var admins = new List<StackExchange.Redis.ConnectionMultiplexer>();
        foreach (var server in servers)
        {
            admins.Add(await server.ConnectAsync());
        }

        await using var locks = await RedisLockManager.ConnectAsync(servers.Select(s => s.Endpoint).ToArray(), Options);
        var resource = "handoff-" + Guid.NewGuid().ToString("N");
        var hold = new LockHold(new LockKeyLayout(Options.KeyPrefix).LockKey(resource), LockMode.Exclusive);
        var line = LockKeyLayout.WaitersKey(hold.Key);
        try
        {
            var holder = await locks.AcquireAsync(resource);
            Assert.True(await EveryNode.HoldsAsync(admins, hold.Key, holder.HolderId));
            var waiting = locks.AcquireAsync(resource, TimeSpan.FromSeconds(30));
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
                (await Task.WhenAll(admins.Select(a => a.GetDatabase().SortedSetLengthAsync(line)))).All(n => n == 1) && locks.Waiters.HasOffer(hold)));

            // A queue of another process, listening, first in the lines of two nodes of three: there
            // the release hands the turn to it, and only the third hands the lock to the local waiter.
            for (var i = 0; i < 2; i++)
            {
                await admins[i].GetSubscriber().SubscribeAsync(StackExchange.Redis.RedisChannel.Literal(hold.Key + ":wake:rival"), (_, _) => { });
                await admins[i].GetDatabase().SortedSetAddAsync(line, "rival", 1);
            }

            Assert.True(await holder.ReleaseAsync());

            // The rival never claims its turn: once its grace is over, the waiter has the lock.
            await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
            // A majority holds it (a rival's node may have refused it a moment before its turn ran out).
            var values = await Task.WhenAll(admins.Select(a => a.GetDatabase().StringGetAsync(hold.Key)));
            Assert.True(values.Count(v => v == next.HolderId) >= 2, string.Join(", ", values));
            Assert.True(await next.ReleaseAsync());
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
                (await Task.WhenAll(admins.Select(a => a.GetDatabase().KeyExistsAsync(hold.Key)))).All(exists => !exists)));
        }
        finally
        {
            foreach (var admin in admins)
            {
                await admin.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Release_WithAWaiterOfAnotherManagerFirstInLine_WakesThatOne_AndTheLocalWaiterComesNext()
    {
        await using var server = await RedisServer.StartAsync();
        await using var mine = await RedisLockManager.ConnectAsync(server.Endpoint, Options);
        await using var theirs = await RedisLockManager.ConnectAsync(server.Endpoint, Options);
        var resource = "handoff-" + Guid.NewGuid().ToString("N");
        var hold = new LockHold(new LockKeyLayout(Options.KeyPrefix).LockKey(resource), LockMode.Exclusive);
        await using var admin = await server.ConnectAsync();
        var held = await mine.AcquireAsync(resource);
        var other = theirs.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await AsleepInLineAsync(admin, theirs, hold, queues: 1));
        var local = mine.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await AsleepInLineAsync(admin, mine, hold, queues: 2));

        await held.ReleaseAsync();

        await using (var first = await other.WaitAsync(TimeSpan.FromSeconds(20)))
        {
            Assert.False(local.IsCompleted, "the waiter that came first in line got the lock first");
        }

        await using var second = await local.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(LockMode.Exclusive, second.Mode);
    }

    /// <summary>
    /// Until the newest waiter of <paramref name="locks"/> asked, was refused and sleeps offered: its
    /// queue is in the line (of <paramref name="queues"/>) and it is offered again. (A waiter is offered
    /// as soon as it is first, before it asks: a release then may find the line empty.)
    /// </summary>
    private static Task<bool> AsleepInLineAsync(StackExchange.Redis.ConnectionMultiplexer admin, RedisLockManager locks, LockHold hold, int queues) =>
        Eventually.TrueWithinAsync(Eventually.Patience, async () =>
            await admin.GetDatabase().SortedSetLengthAsync(LockKeyLayout.WaitersKey(hold.Key)) == queues && locks.Waiters.HasOffer(hold));
}
