using DistLock.RedisRig;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>The transfers scenarios alone (<c>-- transfers [seconds]</c>), on a redis-server of its own, printed as the report prints them.</summary>
public static class TransfersBench
{
    public static async Task<int> RunAsync(TimeSpan run)
    {
        await using var server = await RedisServer.StartAsync();
        var results = new List<ScenarioResult>();
        foreach (var accounts in Transfers.AccountCounts)
        {
            results.AddRange(await WarmRows.RunAsync(Transfers.Rows, TimeSpan.FromSeconds(0.5), run,
                (row, duration) => Transfers.RunAsync(row, server.Endpoint, accounts, duration)));
        }

        Console.WriteLine(Report.Render(results, (await RedisRigInfo.VersionAsync(server)) ?? "?", quick: false, Transfers.Verdicts(results)));
        return results.Any(r => r.Metrics["violations"] != "0" || r.Metrics["errors"] != "0") ? 1 : 0;
    }
}
