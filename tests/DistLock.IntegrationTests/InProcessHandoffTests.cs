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
