using DistLock.IntegrationTests.Fixtures;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// What a semaphore leaves in Redis (keys that expire after the last holder's lease, none once it
/// is free), and what an operator can do to it (force release, a RedisLockManager member).
/// </summary>
public abstract class RedisSemaphoreTests
{
    private readonly RedisNodesFixture _nodes;

    protected RedisSemaphoreTests(RedisNodesFixture nodes) => _nodes = nodes;

    private IDatabase Redis => _nodes.Inspectors[0].GetDatabase();

    [Fact]
    public async Task ReleaseAsync_LastHolder_LeavesOnlyTheFencingCounter()
    {
        await using var manager = await _nodes.ConnectAsync();
        var resource = "sem-" + Guid.NewGuid().ToString("N");
        var handle = await manager.AcquireSemaphoreAsync(resource, 2);
        await handle.GetFencingTokenAsync();

        await handle.ReleaseAsync();

        Assert.False(await Redis.KeyExistsAsync(handle.Key));
        Assert.False(await Redis.KeyExistsAsync(handle.Key + ":limit"));
        Assert.True(await Redis.KeyExistsAsync(handle.Key + ":fence"));
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_WithAWaiter_EveryKeyExpiresAfterTheLastHolder()
    {
        // The line lives a minute after the longer of the holder's lease and the waiter's TTL.
        var shortLeases = new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(2), AutoExtend = false } };
        await using var manager = await _nodes.ConnectAsync(shortLeases);
        await using var waiter = await _nodes.ConnectAsync(shortLeases);
        var resource = "sem-" + Guid.NewGuid().ToString("N");
        await using var handle = await manager.AcquireSemaphoreAsync(resource, 1);
        using var cancel = new CancellationTokenSource();
        var waiting = waiter.AcquireSemaphoreAsync(resource, 1, TimeSpan.FromSeconds(60), cancel.Token);
        await SemaphoreProbe.WaitersAsync(manager, resource, 1);

        foreach (var (suffix, most) in new[] { ("", 3_000), (":limit", 3_000), (":waiters", 62_000) })
        {
            var ttl = await Redis.KeyTimeToLiveAsync(handle.Key + suffix);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(most));
        }

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task ForceReleaseSemaphoreAsync_OneHolder_FreesItsPermit_WakesTheWaiter_AndTheHolderLosesIt()
    {
        await using var owner = await _nodes.ConnectAsync(new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(3) } });
        await using var other = await _nodes.ConnectAsync();
        await using var waiter = await _nodes.ConnectAsync();
        await using var admin = await _nodes.ConnectAsync();
        var resource = "sem-" + Guid.NewGuid().ToString("N");
        var stuck = await owner.AcquireSemaphoreAsync(resource, 2);
        await using var kept = await other.AcquireSemaphoreAsync(resource, 2);
        var waiting = waiter.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(10));
        await SemaphoreProbe.WaitersAsync(admin, resource, 1);

        Assert.Equal(1, await admin.ForceReleaseSemaphoreAsync(resource, stuck.HolderId));

        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(2)); // well before the 3 s TTL
        await stuck.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(5));
        Assert.False(await stuck.ReleaseAsync());
        Assert.Equal(LockState.Held, kept.State);
        var holders = (await admin.InspectSemaphoreAsync(resource)).Holders.Select(h => h.HolderId).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { kept.HolderId, next.HolderId }.Order(StringComparer.Ordinal), holders);
    }

    [Fact]
    public async Task ForceReleaseSemaphoreAsync_EveryHolder_WakesOneWaiterPerPermit()
    {
        await using var owner = await _nodes.ConnectAsync(new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(20) } });
        await using var first = await _nodes.ConnectAsync();
        await using var second = await _nodes.ConnectAsync();
        await using var admin = await _nodes.ConnectAsync();
        var resource = "sem-" + Guid.NewGuid().ToString("N");
        var a = await owner.AcquireSemaphoreAsync(resource, 2);
        var b = await owner.AcquireSemaphoreAsync(resource, 2);
        var waitingFirst = first.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(10));
        var waitingSecond = second.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(10));
        await SemaphoreProbe.WaitersAsync(admin, resource, 2);

        Assert.Equal(2, await admin.ForceReleaseSemaphoreAsync(resource));

        await using var one = await waitingFirst.WaitAsync(TimeSpan.FromSeconds(2));
        await using var two = await waitingSecond.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.False(await a.ReleaseAsync());
        Assert.False(await b.ReleaseAsync());
        Assert.Equal(0, await admin.ForceReleaseSemaphoreAsync(resource, "no-such-holder"));
        Assert.Equal(2, (await admin.InspectSemaphoreAsync(resource)).Holders.Count);
    }

    [Fact]
    public async Task ForceReleaseSemaphoreAsync_RejectsBadArguments()
    {
        await using var manager = await _nodes.ConnectAsync();

        await Assert.ThrowsAsync<ArgumentException>("resource", () => manager.ForceReleaseSemaphoreAsync(" "));
        await Assert.ThrowsAsync<ArgumentException>("holderId", () => manager.ForceReleaseSemaphoreAsync("sem", " "));
        await Assert.ThrowsAsync<ArgumentException>("holderId", () => manager.ForceReleaseSemaphoreAsync("sem", ""));
        await Assert.ThrowsAsync<ArgumentException>("holderId", () => manager.ForceReleaseSemaphoreAsync("sem", "reserved:q"));
    }
}
