using DistLock.RedisRig;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>The semaphore scenario alone (<c>-- semaphore</c>), on a redis-server of its own, printed as the report prints it.</summary>
public static class SemaphoreBench
{
    public static async Task<int> RunAsync(bool quick)
    {
        await using var server = await RedisServer.StartAsync();
        var results = await WarmRows.RunAsync(SemaphoreHotKey.Rows, TimeSpan.FromSeconds(0.3), TimeSpan.FromSeconds(quick ? 1 : 5),
            (row, run) => SemaphoreHotKey.RunAsync(row, [server.Endpoint], 32, run));
        Console.WriteLine(Report.Render(results, (await RedisRigInfo.VersionAsync(server)) ?? "?", quick, [SemaphoreHotKey.Verdict(results)]));
        return results.Any(r => r.Metrics["violations"] != "0") ? 1 : 0;
    }
}
