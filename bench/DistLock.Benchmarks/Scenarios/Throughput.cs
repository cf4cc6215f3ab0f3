using DistLock.Benchmarks.Clients;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>Acquire-release cycles with no contention: one key per task.</summary>
public static class Throughput
{
    public static async Task<ScenarioResult> RunAsync(string scenario, LockRow row, IReadOnlyList<string> endpoints, int keys, TimeSpan duration)
    {
        await using var client = await row.ConnectAsync(endpoints);
        await using var commands = await ServerCommands.ConnectAsync(endpoints);
        var prefix = Guid.NewGuid().ToString("N")[..8];
        await WarmUpAsync(client, prefix);

        var before = await commands.ReadAsync();
        var serverCpuBefore = await commands.ReadCpuMicrosecondsAsync();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var latencies = new List<double>[keys];
        var until = Stats.Now() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency);
        var start = Stats.Now();
        await Task.WhenAll(Enumerable.Range(0, keys).Select(async k =>
        {
            var mine = latencies[k] = new List<double>(4096);
            var resource = $"{prefix}:{k}";
            while (Stats.Now() < until)
            {
                var t0 = Stats.Now();
                var handle = await client.AcquireAsync(resource, TimeSpan.FromSeconds(5))
                    ?? throw new InvalidOperationException($"{row.Name}: an uncontended lock was not acquired");
                await handle.DisposeAsync();
                mine.Add(Stats.Ms(t0, Stats.Now()));
            }
        }));
        var elapsed = Stats.Ms(start, Stats.Now()) / 1000;
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        var executed = await commands.ReadAsync() - before;
        var serverCpu = await commands.ReadCpuMicrosecondsAsync() - serverCpuBefore;

        var all = latencies.SelectMany(l => l).Order().ToList();
        return new ScenarioResult(scenario, row.Name, new Dictionary<string, string>
        {
            ["cycles/s"] = (all.Count / elapsed).ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
            ["p50 ms"] = Stats.Percentile(all, 50).ToString("F3"),
            ["p99 ms"] = Stats.Percentile(all, 99).ToString("F3"),
            ["server cmds/cycle"] = ((double)executed / all.Count).ToString("F1"),
            ["client CPU µs/cycle"] = (cpu.TotalMicroseconds / all.Count).ToString("F1", System.Globalization.CultureInfo.InvariantCulture),
            ["server CPU µs/cycle"] = (serverCpu / all.Count).ToString("F1", System.Globalization.CultureInfo.InvariantCulture),
            ["alloc B/cycle"] = ((double)allocated / all.Count).ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    private static async Task WarmUpAsync(ILockClient client, string prefix)
    {
        for (var i = 0; i < 20; i++)
        {
            var handle = await client.AcquireAsync($"{prefix}:warm", TimeSpan.FromSeconds(5));
            if (handle is not null)
            {
                await handle.DisposeAsync();
            }
        }
    }
}
