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
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(locks.Waiters.HasOffer(hold))));
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
        var held = await mine.AcquireAsync(resource);
        var other = theirs.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(theirs.Waiters.HasOffer(hold))));
        var local = mine.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(mine.Waiters.HasOffer(hold))));

        await held.ReleaseAsync();

        await using (var first = await other.WaitAsync(TimeSpan.FromSeconds(20)))
        {
            Assert.False(local.IsCompleted, "the waiter that came first in line got the lock first");
        }

        await using var second = await local.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(LockMode.Exclusive, second.Mode);
    }
}
