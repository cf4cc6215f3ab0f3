using System.Runtime.CompilerServices;
using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;
using Microsoft.Extensions.Logging;

namespace DistLock.IntegrationTests;

/// <summary>Lease safety cases that need a server of their own or run inside one process.</summary>
public sealed class LeaseFaultTests
{
    [Fact]
    public async Task ManyCancellationsInFlight_LeaveNoKeyNoLeaseAndNoWaiter()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(redis.Endpoint, new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(5) } });
        const string resource = "cancelled";

        async Task ContendAsync(int i)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 30)));
            try
            {
                await using var handle = await manager.AcquireAsync(resource, cancellationToken: cancel.Token);
                await Task.Delay(Random.Shared.Next(0, 5), CancellationToken.None); // hold it a random while, so cancellations land at every point
            }
            catch (OperationCanceledException)
            {
                // Expected for most of them: the point is what they leave behind.
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 200).Select(ContendAsync));

        await using var inspector = await redis.ConnectAsync();
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(5), async () =>
            !await inspector.GetDatabase().KeyExistsAsync("lock:{cancelled}")), "a cancelled acquisition left the lock key behind");
        Assert.Equal(0, manager.Leases.Count);
        // A queue whose last waiter won lingers for a moment (WaitQueues.LingerTime), then goes.
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(5), () => Task.FromResult(manager.Waiters.Count == 0)));
    }

    /// <param name="watchedByItsOwnCallback">
    /// The handle's LostToken has a callback that refers to the handle (regression, a review of
    /// 2026-12-06: the lease keeper kept the lease, the lease its token, the token the callback and
    /// the callback the handle, so the handle was never collected and its lock was extended until
    /// the manager was disposed).
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HandleDroppedWithoutRelease_IsReleasedInRedis_AWaiterGetsItLongBeforeItsTtl_AndItIsLogged(bool watchedByItsOwnCallback)
    {
        await using var redis = await RedisServer.StartAsync();
        var logger = new ListLogger();
        var ttl = TimeSpan.FromSeconds(60);
        await using var manager = await RedisLockManager.ConnectAsync(redis.Endpoint, new RedisLockManagerOptions { Defaults = { Ttl = ttl } }, logger);
        await using var other = await RedisLockManager.ConnectAsync(redis.Endpoint);

        await AcquireAndDropAsync(manager, "dropped", watchedByItsOwnCallback);
        // Half the TTL: only a release of the dropped handle's lock can let this waiter in.
        var waiting = other.AcquireAsync("dropped", ttl / 2);

        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(20), () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Task.FromResult(logger.Entries.Any(e => e.Id.Id == 1011));
        }), "the dropped handle was not collected, or its lock not given up");
        var warning = Assert.Single(logger.Entries, e => e.Id.Id == 1011);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("dropped", warning.Message, StringComparison.Ordinal);
        Assert.Equal(0, manager.Leases.Count);

        await using var next = await waiting;
        Assert.True(next.AcquireDelay < ttl / 2);
    }

    [Fact]
    public async Task HandleDroppedWithoutRelease_WithAutoReleaseOnDispose_IsKeptUntilTheManagerReleasesIt()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var inspector = await redis.ConnectAsync();
        var logger = new ListLogger();
        // 5 s: extensions are due every 1.7 s, and a loaded machine was seen to stall a timer 1.7 s.
        var ttl = TimeSpan.FromSeconds(5);
        var manager = await RedisLockManager.ConnectAsync(redis.Endpoint, new RedisLockManagerOptions { AutoReleaseOnDispose = true, Defaults = { Ttl = ttl } }, logger);

        var key = await AcquireAndDropAsync(manager, "kept");
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // The manager holds the handle for its release at dispose, so it is extended past its TTL.
        await Task.Delay(ttl + TimeSpan.FromSeconds(1)); // time must pass: the key outlives its TTL only if extended
        Assert.True(await inspector.GetDatabase().KeyExistsAsync(key));
        Assert.DoesNotContain(logger.Entries, e => e.Id.Id == 1011);

        await manager.DisposeAsync();
        Assert.False(await inspector.GetDatabase().KeyExistsAsync(key));
    }

    /// <summary>Takes a lock and forgets its handle without releasing it, as a missing <c>await using</c> would.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<string> AcquireAndDropAsync(RedisLockManager manager, string resource, bool watchedByItsOwnCallback = false)
    {
        var handle = await manager.AcquireAsync(resource);
        if (watchedByItsOwnCallback)
        {
            handle.LostToken.Register(() => Console.WriteLine($"lost {handle.Resource}"));
        }

        return handle.Key;
    }

    [Fact]
    public async Task EvictingMaxMemoryPolicy_IsWarnedAboutAtConnect()
    {
        await using var redis = await RedisServer.StartAsync("--maxmemory", "100mb", "--maxmemory-policy", "volatile-lru");
        var logger = new ListLogger();

        await using var manager = await RedisLockManager.ConnectAsync(redis.Endpoint, logger: logger);

        var warning = Assert.Single(logger.Entries, e => e.Id.Id == 1009);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("volatile-lru", warning.Message, StringComparison.Ordinal);
        Assert.Contains("noeviction", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoEvictionPolicy_NoWarning()
    {
        await using var redis = await RedisServer.StartAsync("--maxmemory", "100mb", "--maxmemory-policy", "noeviction");
        var logger = new ListLogger();

        await using var manager = await RedisLockManager.ConnectAsync(redis.Endpoint, logger: logger);

        Assert.DoesNotContain(logger.Entries, e => e.Id.Id == 1009);
    }

    [Fact]
    public async Task FencedRedisStore_RejectsALowerToken_AcceptsTheSameOrHigher()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var connection = await redis.ConnectAsync();
        var store = new FencedRedisStore(connection.GetDatabase());

        Assert.Null(await store.ReadAsync("invoice"));
        Assert.True(await store.TryWriteAsync("invoice", "draft", 10));
        Assert.True(await store.TryWriteAsync("invoice", "sent", 10));
        Assert.True(await store.TryWriteAsync("invoice", "paid", 12));
        Assert.False(await store.TryWriteAsync("invoice", "stale", 11));

        Assert.Equal(new FencedValue("paid", 12), await store.ReadAsync("invoice"));
        Assert.Throws<ArgumentOutOfRangeException>("fencingToken", () => { _ = store.TryWriteAsync("invoice", "x", 0); });
    }

    [Fact]
    public async Task FencingTokens_AcrossARestartWithoutPersistence_KeepIncreasing()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(redis.Endpoint);
        long before;
        await using (var handle = await manager.AcquireAsync("restarted"))
        {
            before = (await handle.GetFencingTokenAsync());
        }

        await redis.RestartAsync();
        await using var after = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(10), () => manager.TryAcquireAsync("restarted"));

        Assert.True((await after.GetFencingTokenAsync()) > before, $"{(await after.GetFencingTokenAsync())} after {before}");
    }
}
