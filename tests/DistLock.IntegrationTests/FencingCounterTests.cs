using DistLock.RedisRig;

namespace DistLock.IntegrationTests;

/// <summary>
/// Fencing tokens against a counter that is stale (restored from a snapshot) or gone (expired
/// after an idle period): they keep rising, and idle resources leave nothing in Redis.
/// Each test runs its own redis-server, since it restarts it or counts every key in it.
/// </summary>
public sealed class FencingCounterTests
{
    [Fact]
    public async Task RestartFromAnOlderSnapshot_TokensStillRise()
    {
        await using var redis = await RedisServer.StartAsync();
        long highest;
        await using (var locks = await RedisLockManager.ConnectAsync(redis.Endpoint + ",allowAdmin=true"))
        {
            await TakeAsync(locks, "snap", 3);
            using (var admin = await redis.ConnectAsync(",allowAdmin=true"))
            {
                await admin.GetDatabase().ExecuteAsync("SAVE");
            }

            // Issued after the snapshot, so lost in the restart.
            highest = (await TakeAsync(locks, "snap", 3)).Max();
        }

        await redis.RestartAsync();

        await using var after = await RedisLockManager.ConnectAsync(redis.Endpoint);
        var next = (await TakeAsync(after, "snap", 1)).Single();
        Assert.True(next > highest, $"token {next} after the restart, but {highest} was issued before it");
    }

    [Fact]
    public async Task IdleCounters_Expire_AndTokensKeepRisingAfterwards()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = new RedisLockManagerOptions { IdleExpiry = TimeSpan.FromSeconds(3) };
        await using var locks = await RedisLockManager.ConnectAsync(redis.Endpoint, options);
        const int Names = 100_000;
        var first = await TakeAsync(locks, "again", 1);

        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i <= Names; i = Interlocked.Increment(ref next))
            {
                await using var handle = await locks.AcquireAsync("entity:" + i);
                await handle.GetFencingTokenAsync(); // tokens are issued on demand: a counter for each name
            }
        }));

        using var inspector = await redis.ConnectAsync(",allowAdmin=true");
        var server = inspector.GetServer(redis.Endpoint);
        Assert.True(await server.DatabaseSizeAsync() > 0, "no counter was there to begin with");
        var emptied = await Fixtures.Eventually.TrueWithinAsync(TimeSpan.FromSeconds(60), async () => await server.DatabaseSizeAsync() == 0);
        Assert.True(emptied, $"{await server.DatabaseSizeAsync()} keys left after the idle period");

        var later = (await TakeAsync(locks, "again", 1)).Single();
        Assert.True(later > first.Single(), $"token {later} after the counter expired, {first.Single()} before");
    }

    /// <summary>
    /// Guards the counting path of Redlock nodes (a floor of whole seconds): INCR keeps the expiry
    /// the last SET gave the counter, so a burst of tokens within one second must not leave
    /// counters that never expire, and tokens keep rising after they are gone.
    /// </summary>
    [Fact]
    public async Task IdleCounters_OfRedlockNodes_Expire_AndTokensKeepRisingAfterwards()
    {
        var servers = await RedisServer.StartManyAsync(3);
        try
        {
            var options = new RedisLockManagerOptions { IdleExpiry = TimeSpan.FromSeconds(3) };
            await using var locks = await RedisLockManager.ConnectAsync(servers.Select(s => s.Endpoint), options);
            var burst = await TakeAsync(locks, "burst", 200);
            Assert.True(burst.Zip(burst.Skip(1)).All(pair => pair.Second > pair.First), "tokens did not rise within the burst");

            foreach (var redis in servers)
            {
                using var inspector = await redis.ConnectAsync(",allowAdmin=true");
                var server = inspector.GetServer(redis.Endpoint);
                var emptied = await Fixtures.Eventually.TrueWithinAsync(TimeSpan.FromSeconds(30), async () => await server.DatabaseSizeAsync() == 0);
                Assert.True(emptied, $"{await server.DatabaseSizeAsync()} keys left on {redis.Endpoint} after the idle period");
            }

            var later = (await TakeAsync(locks, "burst", 1)).Single();
            Assert.True(later > burst[^1], $"token {later} after the counters expired, {burst[^1]} before");
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task FencedWrite_EqualTokenFromTheSameHolder_IsAccepted_LowerIsRejected()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var locks = await RedisLockManager.ConnectAsync(redis.Endpoint);
        using var connection = await redis.ConnectAsync();
        var store = new FencedRedisStore(connection.GetDatabase());
        var first = await locks.AcquireAsync("fenced");
        var token = (await first.GetFencingTokenAsync());
        await first.ReleaseAsync();
        await using var second = await locks.AcquireAsync("fenced");

        Assert.True(await store.TryWriteAsync("data", "a", (await second.GetFencingTokenAsync())));
        Assert.True(await store.TryWriteAsync("data", "b", (await second.GetFencingTokenAsync())));
        Assert.False(await store.TryWriteAsync("data", "stale", token));
    }

    private static async Task<List<long>> TakeAsync(RedisLockManager locks, string resource, int times)
    {
        var tokens = new List<long>();
        for (var i = 0; i < times; i++)
        {
            await using var handle = await locks.AcquireAsync(resource);
            tokens.Add((await handle.GetFencingTokenAsync()));
        }

        return tokens;
    }
}
