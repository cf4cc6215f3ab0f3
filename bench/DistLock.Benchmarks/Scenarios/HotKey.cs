using DistLock.Benchmarks.Clients;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// W tasks in one process loop on one key: take it, check nobody else is inside, give it back.
/// Measures handoffs, real switches (the next holder is another task), waits, fairness and
/// violations (two holders at once).
/// </summary>
public static class HotKey
{
    public static async Task<ScenarioResult> RunAsync(string scenario, LockRow row, IReadOnlyList<string> endpoints, int workers, TimeSpan duration)
    {
        await using var client = await row.ConnectAsync(endpoints);
        await using var commands = await ServerCommands.ConnectAsync(endpoints);
        var resource = "hot:" + Guid.NewGuid().ToString("N")[..8];
        var tally = new HotKeyTally(workers);

        var before = await commands.ReadAsync();
        await HotLoop.RunAsync(workers, duration, limit: 1, tally, wait => client.AcquireAsync(resource, wait));
        var executed = await commands.ReadAsync() - before;
        return tally.ToResult(scenario, row.Name, duration, executed);
    }
}
