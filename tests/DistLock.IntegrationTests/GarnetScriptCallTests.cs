using DistLock.IntegrationTests.Fixtures;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>Garnet forgets its scripts (SCRIPT FLUSH): sets and single locks go on by the NOSCRIPT fallback.</summary>
[Collection(GarnetCollection.Name)]
public sealed class GarnetScriptCallTests(GarnetFixture garnet)
{
    [Fact]
    public async Task Garnet_ScriptFlushBetweenCalls_SetsAndSingleLocksStillWork()
    {
        var options = new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(5), Defaults = { Ttl = TimeSpan.FromSeconds(10) } };
        await using var a = await garnet.ConnectAsync(options);
        await using var b = await garnet.ConnectAsync(options);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(garnet.Endpoints[0] + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var run = Guid.NewGuid().ToString("N");
        string[] names = [$"g:{run}:0", $"g:{run}:1", $"g:{run}:2"];

        for (var i = 0; i < 3; i++)
        {
            await server.ScriptFlushAsync();
            var set = await a.AcquireAllAsync(names, TimeSpan.FromSeconds(5));
            await server.ScriptFlushAsync();
            Assert.Null(await b.TryAcquireAllAsync(names));
            var waiter = b.AcquireAsync(names[2], TimeSpan.FromSeconds(10));
            await Task.Delay(200);
            await server.ScriptFlushAsync();
            Assert.True(await set.ReleaseAsync());
            await using (var got = await waiter.WaitAsync(TimeSpan.FromSeconds(5)))
            {
                Assert.Equal(LockState.Held, got.State);
            }

            await server.ScriptFlushAsync();
            await using var again = await b.TryAcquireAllAsync(names);
            Assert.NotNull(again);
        }
    }

    [Fact]
    public async Task Garnet_ExistsInAScript_CountsSortedSetsAndForgetsEmptiedOnes()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(garnet.Endpoints[0]);
        var db = admin.GetDatabase();
        var run = Guid.NewGuid().ToString("N");
        RedisKey s = $"lock:{{{run}}}:waiters", k = $"lock:{{{run}}}";
        await db.StringSetAsync(k, "x");
        await db.SortedSetAddAsync(s, "q", 1);
        var both = (long)await db.ScriptEvaluateAsync("return redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[1])", [k, s]);
        await db.SortedSetRemoveAsync(s, "q");
        var emptied = (long)await db.ScriptEvaluateAsync("return redis.call('EXISTS', KEYS[1])", [s]);
        var unpacked = (long)await db.ScriptEvaluateAsync("local unpack = table.unpack or unpack; local t = {KEYS[1], KEYS[2]}; return redis.call('EXISTS', unpack(t))", [k, s]);
        Assert.Equal(3, both);
        Assert.Equal(0, emptied);
        Assert.Equal(1, unpacked);
    }
}
