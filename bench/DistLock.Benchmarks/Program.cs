using BenchmarkDotNet.Running;
using DistLock.Benchmarks;
using DistLock.Benchmarks.Scenarios;
using DistLock.Benchmarks.Micro;

// dotnet run -c Release --project bench/DistLock.Benchmarks [-- --quick] [--out docs/benchmarks.md] [--only distlock] [--uncontended [--scenario NAME]] [--passes N]
// dotnet run -c Release --project bench/DistLock.Benchmarks -- micro   (BenchmarkDotNet micro-benchmarks)
// dotnet run -c Release --project bench/DistLock.Benchmarks -- semaphore [--quick]   (the semaphore scenario alone)
// dotnet run -c Release --project bench/DistLock.Benchmarks -- hung   (Redlock with one node of three hung, alone)
// dotnet run -c Release --project bench/DistLock.Benchmarks -- stalled   (stalled and dead waiters at the head of the line, alone)
// dotnet run -c Release --project bench/DistLock.Benchmarks -- failover [rounds]   (leader election's hand-over against a loop over madelson's lock)
// dotnet run -c Release --project bench/DistLock.Benchmarks -- processes [rounds]   (the hot key over 8 processes alone, DistLock and the raw floor)
// dotnet run -c Release --project bench/DistLock.Benchmarks -- transfers [seconds]   (several resources at once: transfers between random pairs of accounts, 10 s a row)
if (args.Length > 0 && args[0] == "worker")
{
    return await HotKeyProcesses.WorkerAsync(args);
}

if (args.Length > 0 && args[0] == "stalled-worker")
{
    return await StalledLine.WorkerAsync(args);
}

if (args.Length > 0 && args[0] == "stalled")
{
    // dotnet run -c Release --project bench/DistLock.Benchmarks -- stalled: stalled and dead waiters at the head of the line, alone.
    var stalledServers = await DistLock.RedisRig.RedisServer.StartManyAsync(3);
    try
    {
        await StalledLine.RunAsync("Stalled or dead waiters at the head of the line", [stalledServers[0].Endpoint], stalledServers.Select(s => s.Endpoint).ToArray(), [1, 2, 5]);
    }
    finally
    {
        foreach (var server in stalledServers)
        {
            await server.DisposeAsync();
        }
    }

    return 0;
}

if (args.Length > 0 && args[0] == "rw")
{
    // dotnet run -c Release --project bench/DistLock.Benchmarks -- rw [seconds]: the reader-writer mix alone.
    await using var server = await DistLock.RedisRig.RedisServer.StartAsync();
    var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
    foreach (var row in ReaderWriterMix.Rows)
    {
        var result = await ReaderWriterMix.RunAsync("Reader-writer lock, 32 tasks, 90% reads", row, server.Endpoint, 32, 0.9, TimeSpan.FromSeconds(seconds));
        Console.WriteLine($"{result.Row} | {string.Join(", ", result.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
    }

    return 0;
}

if (args.Length > 0 && args[0] == "hung")
{
    // dotnet run -c Release --project bench/DistLock.Benchmarks -- hung: Redlock with one node of three hung, alone.
    foreach (var row in new[] { DistLock.Benchmarks.Clients.LockRow.DistLock, DistLock.Benchmarks.Clients.LockRow.RedLockNet, DistLock.Benchmarks.Clients.LockRow.Madelson })
    {
        var result = await HungNode.RunAsync("Redlock over 3 nodes, one of them hung (SIGSTOP)", row, 10);
        Console.WriteLine($"{result.Row} | {string.Join(", ", result.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
    }

    return 0;
}

if (args.Length > 0 && args[0] == "failover")
{
    // dotnet run -c Release --project bench/DistLock.Benchmarks -- failover [rounds]: leader election's hand-over, graceful and on a crash.
    await using var server = await DistLock.RedisRig.RedisServer.StartAsync();
    await Failover.RunAsync(server.Endpoint, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10);
    return 0;
}

if (args.Length > 0 && args[0] == "micro")
{
    BenchmarkSwitcher.FromTypes([typeof(AcquireReleaseBenchmarks)]).Run(args[1..]);
    return 0;
}

if (args.Length > 0 && args[0] == "transfers")
{
    return await TransfersBench.RunAsync(TimeSpan.FromSeconds(args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10));
}

if (args.Length > 0 && args[0] == "processes")
{
    // dotnet run -c Release --project bench/DistLock.Benchmarks -- processes [rounds]: the hot key over 8 processes alone, DistLock and the raw floor, for A/B runs.
    var processServers = await DistLock.RedisRig.RedisServer.StartManyAsync(2);
    try
    {
        var rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var row in new[] { DistLock.Benchmarks.Clients.LockRow.DistLock, DistLock.Benchmarks.Clients.LockRow.Raw })
            {
                var result = await HotKeyProcesses.RunAsync("Hot key, 8 processes", row, [processServers[0].Endpoint], processServers[1].Endpoint, 8, TimeSpan.FromSeconds(10));
                Console.WriteLine($"{result.Row} | {string.Join(", ", result.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
            }
        }
    }
    finally
    {
        foreach (var server in processServers)
        {
            await server.DisposeAsync();
        }
    }

    return 0;
}

if (args.Length > 0 && args[0] == "semaphore")
{
    return await SemaphoreBench.RunAsync(args.Contains("--quick"));
}

var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
var output = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : null;
var onlyIndex = Array.IndexOf(args, "--only");
var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length ? args[onlyIndex + 1] : null; // one library, e.g. "distlock"
var scenarioIndex = Array.IndexOf(args, "--scenario");
var scenario = scenarioIndex >= 0 && scenarioIndex + 1 < args.Length ? args[scenarioIndex + 1] : null; // with --uncontended, e.g. "64 independent keys, 64 tasks, one node"
var passesIndex = Array.IndexOf(args, "--passes");
var passes = passesIndex >= 0 && passesIndex + 1 < args.Length && int.TryParse(args[passesIndex + 1], out var n) && n > 0 ? n : 2; // uncontended rows: median of this many passes
var results = await new ContentionHarness(quick, only, uncontendedOnly: args.Contains("--uncontended"), scenario, passes).RunAsync();
var text = Report.Render(results.Results, results.RedisVersion, quick, results.Verdicts);
Console.WriteLine(text);
if (output is not null)
{
    await File.WriteAllTextAsync(output, text);
    Console.WriteLine($"written to {output}");
}

return results.Results.Any(r => r.Metrics.TryGetValue("violations", out var v) && v != "0") ? 1 : 0;
