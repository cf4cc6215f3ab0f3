using System.Diagnostics;
using System.Text.Json;
using DistLock.Benchmarks.Clients;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// The hot key with W separate processes (this program in worker mode). Overlaps and switches are
/// judged on a separate checker redis-server that every holder reports to while inside.
/// </summary>
public static class HotKeyProcesses
{
    public static async Task<ScenarioResult> RunAsync(string scenario, LockRow row, IReadOnlyList<string> endpoints, string checker, int workers, TimeSpan duration)
    {
        await using var commands = await ServerCommands.ConnectAsync(endpoints);
        var resource = "hotp:" + Guid.NewGuid().ToString("N")[..8];
        var startAt = TimeProvider.System.GetUtcNow().AddSeconds(5).ToUnixTimeMilliseconds(); // time for the workers to start, connect and warm up
        var before = await commands.ReadAsync();
        var processes = Enumerable.Range(0, workers).Select(id => StartWorker(row, endpoints, checker, resource, startAt, duration, id)).ToList();
        var tally = new HotKeyTally(workers);
        for (var id = 0; id < workers; id++)
        {
            var output = await processes[id].StandardOutput.ReadToEndAsync();
            await processes[id].WaitForExitAsync();
            var report = JsonSerializer.Deserialize<WorkerReport>(output.Trim().Split('\n')[^1])
                ?? throw new InvalidOperationException($"worker {id} reported nothing: {output}");
            tally.Merge(id, report.Acquisitions, report.Switches, report.Violations, report.Waits);
            processes[id].Dispose();
        }

        var executed = await commands.ReadAsync() - before;
        return tally.ToResult(scenario, row.Name, duration, executed);
    }

    /// <summary>The worker side: one task on the hot key from the agreed start time, for the duration.</summary>
    public static async Task<int> WorkerAsync(string[] args)
    {
        var row = LockRow.ByKey(args[1]);
        var endpoints = args[2].Split(',');
        await using var checker = await ConnectionMultiplexer.ConnectAsync(args[3]);
        var resource = args[4];
        var startAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture));
        var duration = TimeSpan.FromSeconds(double.Parse(args[6], System.Globalization.CultureInfo.InvariantCulture));
        var id = args[7];
        await using var client = await row.ConnectAsync(endpoints);
        var check = checker.GetDatabase();
        var inside = (RedisKey)(resource + ":inside");
        var last = (RedisKey)(resource + ":last");

        // Every library's first calls run unoptimized code (tiered JIT) in eight processes at once on
        // two cores, so each worker warms up first, for at most 1.5 s: two tasks of its own contend
        // for a key of its own, which runs the waiting code as well as the uncontended path.
        var warmUntil = Stats.Now() + (long)(1.5 * TimeProvider.System.TimestampFrequency);
        var warmKey = $"{resource}:warm:{id}";
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            for (var i = 0; i < 100 && Stats.Now() < warmUntil; i++)
            {
                var warm = await client.AcquireAsync(warmKey, TimeSpan.FromSeconds(1));
                if (warm is not null)
                {
                    await warm.DisposeAsync();
                }
            }
        }));

        var delay = startAt - TimeProvider.System.GetUtcNow();
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay);
        }

        var report = new WorkerReport();
        var until = Stats.Now() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            var t0 = Stats.Now();
            var left = Stats.Ms(t0, until);
            if (left <= 0)
            {
                break;
            }

            var handle = await client.AcquireAsync(resource, TimeSpan.FromMilliseconds(left));
            report.Waits.Add(Stats.Ms(t0, Stats.Now()));
            if (handle is null)
            {
                break;
            }

            report.Acquisitions++;
            if (await check.StringIncrementAsync(inside) != 1)
            {
                report.Violations++;
            }

            if ((string?)await check.StringSetAndGetAsync(last, id) != id)
            {
                report.Switches++;
            }

            await check.StringDecrementAsync(inside);
            await handle.DisposeAsync();
        }

        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }

    private static Process StartWorker(LockRow row, IReadOnlyList<string> endpoints, string checker, string resource, long startAt, TimeSpan duration, int id)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };

        // Steady state, not start-up: with tiered compilation, eight processes spend the 10 s run
        // compiling and re-compiling (profile-guided) on two cores, and every library measured
        // 40-50% below what it does once warm. Fully optimized code from the first call, for all.
        start.Environment["DOTNET_TieredCompilation"] = "0";
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(HotKeyProcesses).Assembly.Location);
        }

        foreach (var argument in new[]
        {
            "worker", row.Key, string.Join(',', endpoints), checker, resource,
            startAt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            duration.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start a worker");
    }

    private sealed class WorkerReport
    {
        public long Acquisitions { get; set; }

        public long Switches { get; set; }

        public long Violations { get; set; }

        public List<double> Waits { get; set; } = [];
    }
}
