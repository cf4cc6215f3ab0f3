using System.Globalization;
using DistLock.Benchmarks.Clients;
using DistLock.RedisRig;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// Redlock over three servers of which one is hung (SIGSTOP: paused, partitioned or swapping): how
/// long does an uncontended acquire, and the release that follows, take? Redlock is meant to carry
/// on while a minority of its nodes is down, so neither should wait for the hung one. Every row gets
/// its own three servers, so that one row's calls queued on the hung server do not slow the next.
/// </summary>
public static class HungNode
{
    public static async Task<ScenarioResult> RunAsync(string scenario, LockRow row, int rounds)
    {
        var servers = await RedisServer.StartManyAsync(3);
        try
        {
            await using var client = await row.ConnectAsync(servers.Select(s => s.Endpoint).ToList());
            await servers[0].PauseAsync();
            try
            {
                var acquires = new List<double>();
                var releases = new List<double>();
                for (var round = 0; round < rounds; round++)
                {
                    var started = Stats.Now();
                    var held = await client.AcquireAsync("hung:" + round.ToString(CultureInfo.InvariantCulture), TimeSpan.FromSeconds(10))
                        ?? throw new InvalidOperationException($"{row.Name} did not acquire with one node of three hung");
                    var acquired = Stats.Now();
                    await held.DisposeAsync();
                    var released = Stats.Now();
                    acquires.Add(Stats.Ms(started, acquired));
                    releases.Add(Stats.Ms(acquired, released));
                }

                acquires.Sort();
                releases.Sort();
                return new ScenarioResult(scenario, row.Name, new Dictionary<string, string>
                {
                    ["rounds"] = rounds.ToString(CultureInfo.InvariantCulture),
                    ["acquire p50 ms"] = Stats.Percentile(acquires, 50).ToString("F1", CultureInfo.InvariantCulture),
                    ["acquire max ms"] = acquires[^1].ToString("F1", CultureInfo.InvariantCulture),
                    ["release p50 ms"] = Stats.Percentile(releases, 50).ToString("F1", CultureInfo.InvariantCulture),
                    ["release max ms"] = releases[^1].ToString("F1", CultureInfo.InvariantCulture),
                });
            }
            finally
            {
                servers[0].Resume();
            }
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }
}
