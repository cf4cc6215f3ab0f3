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
        var inside = 0;
        var lastHolder = -1;

        var before = await commands.ReadAsync();
        var until = Stats.Now() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(id => Task.Run(async () =>
        {
            while (true)
            {
                var t0 = Stats.Now();
                var left = Stats.Ms(t0, until);
                if (left <= 0)
                {
                    return;
                }

                var handle = await client.AcquireAsync(resource, TimeSpan.FromMilliseconds(left));
                var waited = Stats.Ms(t0, Stats.Now());
                if (handle is null)
                {
                    tally.Starved(id, waited); // waited until the end of the run
                    return;
                }

                if (Interlocked.Increment(ref inside) != 1)
                {
                    tally.Violation();
                }

                tally.Acquired(id, waited, Interlocked.Exchange(ref lastHolder, id) != id);
                Interlocked.Decrement(ref inside);
                await handle.DisposeAsync();
            }
        })));
        var executed = await commands.ReadAsync() - before;
        return tally.ToResult(scenario, row.Name, duration, executed);
    }
}
