using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;
using DistLock.Transport;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// Redlock over three real servers, with a stalled queue of another process (listening, never
/// claiming) first in two nodes' lines: a release hands it the turn there, and the waiter first in
/// the third node's line takes its own turn there and loses the round. Once the stalled queue's
/// grace runs out, the waiter takes the lock: it does not sleep to the holder's TTL.
/// </summary>
public sealed class RivalTurnTests
{
    private static readonly RedisLockManagerOptions Options = new() { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { Ttl = TimeSpan.FromSeconds(30) } };

    /// <summary>
    /// Regression (2026-12-07): the waiter's take on the third node told everyone in that line "taken
    /// for 30 s", the waiter's own queue included; when it then gave the take up by releasing it (a
    /// coin decides between that and keeping the turn), nothing undid the news, and its next refused
    /// attempt slept to those 30 s (3 of 6 runs). Four rounds, so the coin comes up at least once.
    /// </summary>
    [Fact]
    public async Task WaiterThatLostASplitRoundToAStalledRival_TakesTheLockOnceTheRivalsGraceRunsOut()
    {
        var servers = await RedisServer.StartManyAsync(3);
        await using var cleanup = new StartedServers(servers);
        var admins = new List<ConnectionMultiplexer>();
        try
        {
            foreach (var server in servers)
            {
                admins.Add(await server.ConnectAsync());
            }

            var endpoints = servers.Select(s => s.Endpoint).ToArray();
            await using var holders = await RedisLockManager.ConnectAsync(endpoints, Options);
            await using var waiters = await RedisLockManager.ConnectAsync(endpoints, Options);
            for (var round = 0; round < 4; round++)
            {
                var resource = $"rival-{round}-{Guid.NewGuid():N}";
                var key = new LockKeyLayout(Options.KeyPrefix).LockKey(resource);
                var line = LockKeyLayout.WaitersKey(key);
                var holder = await holders.AcquireAsync(resource);
                Assert.True(await EveryNode.HoldsAsync(admins, key, holder.HolderId));
                var waiting = waiters.AcquireAsync(resource, TimeSpan.FromSeconds(60));
                Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
                    (await Task.WhenAll(admins.Select(a => a.GetDatabase().SortedSetLengthAsync(line)))).All(n => n == 1)));
                for (var i = 0; i < 2; i++)
                {
                    await admins[i].GetSubscriber().SubscribeAsync(RedisChannel.Literal(key + ":wake:stalled"), (_, _) => { });
                    await admins[i].GetDatabase().SortedSetAddAsync(line, "stalled", 1);
                }

                Assert.True(await holder.ReleaseAsync());

                var started = TimeProvider.System.GetTimestamp();
                await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(60));
                var waited = TimeProvider.System.GetElapsedTime(started);
                Assert.True(waited < TimeSpan.FromSeconds(15), $"round {round}: the waiter took the lock {waited.TotalSeconds:F1} s after the release (grace 1 s, holder's TTL 30 s)");
            }
        }
        finally
        {
            foreach (var admin in admins)
            {
                await admin.DisposeAsync();
            }
        }
    }
}
