using DistLock.IntegrationTests.Fixtures;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// What a semaphore leaves in Redis: keys that expire after the last holder's lease, none once it
/// is free. What an operator can do to it is in <see cref="SemaphoreTests"/>.
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
        // 20 s: the holder's lease must outlive the waiter's joining the line, however slow the machine.
        var shortLeases = new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(20), AutoExtend = false } };
        await using var manager = await _nodes.ConnectAsync(shortLeases);
        await using var waiter = await _nodes.ConnectAsync(shortLeases);
        var resource = "sem-" + Guid.NewGuid().ToString("N");
        await using var handle = await manager.AcquireSemaphoreAsync(resource, 1);
        using var cancel = new CancellationTokenSource();
        var waiting = waiter.AcquireSemaphoreAsync(resource, 1, TimeSpan.FromSeconds(60), cancel.Token);
        await SemaphoreProbe.WaitersAsync(manager, resource, 1);

        foreach (var (suffix, most) in new[] { ("", 22_000), (":limit", 22_000), (":waiters", 82_000) })
        {
            var ttl = await Redis.KeyTimeToLiveAsync(handle.Key + suffix);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(most));
        }

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
