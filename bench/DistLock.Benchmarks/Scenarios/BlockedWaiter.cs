using DistLock.Benchmarks.Clients;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// One waiter blocked behind a held lock for a while: how many commands does it send until it
/// gets the lock? Counted on the waiter's own connection with StackExchange.Redis's profiler.
/// </summary>
public static class BlockedWaiter
{
    public static async Task<ScenarioResult> RunAsync(string scenario, LockRow row, string endpoint, TimeSpan blocked)
    {
        await using var holder = await row.ConnectAsync([endpoint]);
        await using var waiterConnection = await ConnectionMultiplexer.ConnectAsync(endpoint);
        var session = new ProfilingSession();
        waiterConnection.RegisterProfiler(() => session);
        await using var waiter = row.Wrap([waiterConnection]);
        var resource = "blocked:" + Guid.NewGuid().ToString("N")[..8];

        // Warm up on another name: a script's first call on a server is answered NOSCRIPT and sent
        // again with its text, once per server, which is not what being blocked costs.
        await using (var warm = await holder.AcquireAsync(resource + ":warm", TimeSpan.FromSeconds(5)))
        {
            if (await waiter.AcquireAsync(resource + ":warm", TimeSpan.FromMilliseconds(50)) is { } unexpected)
            {
                await unexpected.DisposeAsync();
            }
        }

        var held = await holder.AcquireAsync(resource, TimeSpan.FromSeconds(5)) ?? throw new InvalidOperationException("not acquired");
        session.FinishProfiling(); // start counting from here
        var waiting = waiter.AcquireAsync(resource, blocked + TimeSpan.FromSeconds(30));
        await Task.Delay(blocked);
        var t0 = Stats.Now();
        await held.DisposeAsync();
        var handle = await waiting ?? throw new InvalidOperationException("the waiter did not get the lock");
        var wokenAfter = Stats.Ms(t0, Stats.Now());
        var sent = session.FinishProfiling().Count();
        await handle.DisposeAsync();

        return new ScenarioResult(scenario, row.Name, new Dictionary<string, string>
        {
            ["commands sent while blocked"] = sent.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["acquired after release, ms"] = wokenAfter.ToString("F1"),
        });
    }
}
