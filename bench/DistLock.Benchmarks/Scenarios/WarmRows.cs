using DistLock.Benchmarks.Clients;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>The standalone scenario runs: a short pass of every row first, so that every row is measured warm, then one measured pass.</summary>
public static class WarmRows
{
    public static async Task<List<ScenarioResult>> RunAsync(IEnumerable<LockRow> rows, TimeSpan warm, TimeSpan run, Func<LockRow, TimeSpan, Task<ScenarioResult>> scenario)
    {
        var list = rows.ToList();
        foreach (var row in list)
        {
            await scenario(row, warm);
        }

        var results = new List<ScenarioResult>();
        foreach (var row in list)
        {
            var result = await scenario(row, run);
            Console.Error.WriteLine($"{result.Scenario} | {result.Row} | {string.Join(", ", result.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
            results.Add(result);
        }

        return results;
    }
}
