using System.Globalization;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// A waiting process that stalled (paused, in a debugger) while first in DistLock's line: it keeps
/// its subscription, so a release reserves the lock for it. How long after the release does the
/// live waiter behind it get the lock? The bound is the handoff grace (HandoffGrace, 50 ms by
/// default) plus a round trip; before the waiters behind were told, it was the old holder's TTL. DistLock only:
/// the peers poll, and a stalled poller holds nobody up.
/// </summary>
public static class StalledWaiter
{
    public static async Task<ScenarioResult> RunAsync(string scenario, string endpoint, int rounds)
    {
        var options = new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(10) } };
        await using var holder = await RedisLockManager.ConnectAsync(endpoint, options);
        await using var waiter = await RedisLockManager.ConnectAsync(endpoint, options);
        await using var stalled = await ConnectionMultiplexer.ConnectAsync(endpoint);
        var delays = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var resource = "stalled:" + Guid.NewGuid().ToString("N")[..8];
            var key = $"{options.KeyPrefix}{{{resource}}}";
            var held = await holder.AcquireAsync(resource);

            // The stalled process: first in line, subscribed to its wake channel, never acting.
            await stalled.GetSubscriber().SubscribeAsync(RedisChannel.Literal($"{key}:wake:stalled"), (_, _) => { });
            await stalled.GetDatabase().SortedSetAddAsync($"{key}:waiters", "stalled", 0);
            var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(30));
            while (await stalled.GetDatabase().SortedSetLengthAsync($"{key}:waiters") < 2)
            {
                await Task.Delay(1);
            }

            var released = Stats.Now();
            await held.ReleaseAsync();
            await using (await waiting)
            {
                delays.Add(Stats.Ms(released, Stats.Now()));
            }

            await stalled.GetSubscriber().UnsubscribeAllAsync();
        }

        delays.Sort();
        return new ScenarioResult(scenario, Clients.LockRow.DistLock.Name, new Dictionary<string, string>
        {
            ["rounds"] = rounds.ToString(CultureInfo.InvariantCulture),
            ["acquired after release, median ms"] = Stats.Percentile(delays, 50).ToString("F1", CultureInfo.InvariantCulture),
            ["max ms"] = delays[^1].ToString("F1", CultureInfo.InvariantCulture),
            ["grace ms"] = "50",
            ["holder TTL ms"] = "10000",
        });
    }
}
