using System.Globalization;
using DistLock.Benchmarks.Clients;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// W tasks in one process loop on one semaphore of <see cref="Permits"/>: take a permit, check no
/// more than that many are inside, give it back. Measures permits handed over per second, waits,
/// fairness, violations (more holders than permits) and server commands per acquisition, for
/// DistLock and madelson's RedisDistributedSemaphore (which polls with a random busy-wait sleep).
/// </summary>
public static class SemaphoreHotKey
{
    public const int Permits = 4;

    public const string Name = "32 tasks on a semaphore of 4";

    public static IReadOnlyList<LockRow> Rows { get; } = [LockRow.DistLock, LockRow.Madelson, LockRow.MadelsonTuned];

    public static async Task<ScenarioResult> RunAsync(LockRow row, IReadOnlyList<string> endpoints, int workers, TimeSpan duration)
    {
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(endpoints[0]);
        await using var manager = new RedisLockManager([multiplexer]);
        await using var commands = await ServerCommands.ConnectAsync(endpoints);
        var acquire = Acquirer(row, manager, multiplexer.GetDatabase());
        var resource = "sem:" + Guid.NewGuid().ToString("N")[..8];
        var tally = new HotKeyTally(workers);

        var before = await commands.ReadAsync();
        await HotLoop.RunAsync(workers, duration, Permits, tally, wait => acquire(resource, wait));
        var executed = await commands.ReadAsync() - before;
        var result = tally.ToResult(Name, row.Name, duration, executed);

        // Which task took a permit after which is no handoff between rivals here: every permit is one.
        return result with { Metrics = result.Metrics.Where(m => m.Key != "switches/s").ToDictionary(m => m.Key, m => m.Value) };
    }

    /// <summary>The target: at least 10x the peer's (default settings) permits per second, with a max wait of 100 ms at most.</summary>
    public static string Verdict(IReadOnlyList<ScenarioResult> results)
    {
        double Metric(LockRow row, string metric) =>
            results.FirstOrDefault(r => r.Scenario == Name && r.Row == row.Name) is { } result
                ? double.Parse(result.Metrics[metric], CultureInfo.InvariantCulture)
                : double.NaN;
        var ratio = Metric(LockRow.DistLock, "handoffs/s") / Metric(LockRow.Madelson, "handoffs/s");
        var maxWait = Metric(LockRow.DistLock, "wait max ms");
        return $"{(ratio >= 10 && maxWait <= 100 ? "met" : "NOT met")}: {Name}: {ratio:F1}x the permits/s of DistributedLock.Redis's semaphore (>= 10), max wait {maxWait:F0} ms (<= 100)";
    }

    private static Func<string, TimeSpan, Task<IAsyncDisposable?>> Acquirer(LockRow row, RedisLockManager manager, IDatabase database)
    {
        if (row == LockRow.DistLock)
        {
            return async (resource, wait) => await manager.TryAcquireSemaphoreAsync(resource, Permits, wait);
        }

        var tuned = row == LockRow.MadelsonTuned;
        return async (resource, wait) =>
        {
            var semaphore = new RedisDistributedSemaphore(resource, Permits, database, options =>
            {
                options.Expiry(TimeSpan.FromSeconds(30));
                if (tuned)
                {
                    options.BusyWaitSleepTime(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));
                }
            });
            return await semaphore.TryAcquireAsync(wait);
        };
    }
}
