using System.Globalization;
using DistLock.Benchmarks.Clients;
using DistLock.Benchmarks.Scenarios;
using DistLock.RedisRig;

namespace DistLock.Benchmarks;

/// <summary>Starts its own redis-servers and runs every scenario for every library, one after another.</summary>
/// <param name="quick">Short runs (noisier figures).</param>
/// <param name="only">One library's key (e.g. "distlock"), or null for every library.</param>
/// <param name="uncontendedOnly">Only the uncontended rows on loopback (for A/B runs while working on the hot path).</param>
/// <param name="scenarioFilter">With <paramref name="uncontendedOnly"/>: only the uncontended scenario whose name starts with this.</param>
/// <param name="passes">Measured passes of each uncontended row, in alternating orders; the median pass is reported (of two, the better).</param>
public sealed class ContentionHarness(bool quick, string? only = null, bool uncontendedOnly = false, string? scenarioFilter = null, int passes = 2)
{
    private readonly TimeSpan _run = TimeSpan.FromSeconds(quick ? 0.5 : 3);
    private readonly TimeSpan _processRun = TimeSpan.FromSeconds(quick ? 1 : 10);
    private static readonly TimeSpan NetworkDelay = TimeSpan.FromMilliseconds(5);
    private readonly TimeSpan _blocked = TimeSpan.FromSeconds(quick ? 1 : 10);
    private readonly TimeSpan _delayedRun = TimeSpan.FromSeconds(quick ? 1 : 3);

    public async Task<(List<ScenarioResult> Results, string RedisVersion, List<string> Verdicts)> RunAsync()
    {
        var servers = await RedisServer.StartManyAsync(5);
        try
        {
            string[] one = [servers[0].Endpoint];
            string[] three = [servers[0].Endpoint, servers[1].Endpoint, servers[2].Endpoint];
            var checker = servers[4].Endpoint;
            var results = new List<ScenarioResult>();
            async Task Run(Func<LockRow, Task<ScenarioResult>> scenario, IEnumerable<LockRow>? rows = null)
            {
                foreach (var row in (rows ?? LockRow.All).Where(r => only is null || r.Key == only))
                {
                    var result = await scenario(row);
                    Console.Error.WriteLine($"{result.Scenario} | {result.Row} | {string.Join(", ", result.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
                    results.Add(result);
                }
            }

            // Throughput is sensitive to order (JIT tiers, caches): every row is warmed up first,
            // then measured in passes of alternating order, and the median pass is reported.
            var redlockRows = LockRow.All.Where(r => r != LockRow.Raw).ToList();
            await MedianPassAsync(results, "Uncontended, one task, one node", one, 1, LockRow.All);
            await MedianPassAsync(results, "64 independent keys, 64 tasks, one node", one, 64, LockRow.All);
            await MedianPassAsync(results, "Uncontended, one task, Redlock over 3 nodes", three, 1, redlockRows);
            await MedianPassAsync(results, "64 independent keys, 64 tasks, Redlock over 3 nodes", three, 64, redlockRows);
            if (uncontendedOnly)
            {
                return (results, (await RedisRigInfo.VersionAsync(servers[0])) ?? "?", Verdicts(results));
            }

            foreach (var workers in new[] { 2, 8, 32 })
            {
                await Run(row => HotKey.RunAsync($"Hot key, {workers} tasks in one process", row, one, workers, _run));
            }

            await Run(row => HotKey.RunAsync("Hot key, 32 tasks in one process, Redlock over 3 nodes", row, three, 32, _run), redlockRows);

            await Run(row => ReaderWriterMix.RunAsync("Reader-writer lock, 32 tasks, 90% reads", row, one[0], 32, 0.9, _run), ReaderWriterMix.Rows);
            await Run(row => SemaphoreHotKey.RunAsync(row, one, 32, _run), SemaphoreHotKey.Rows);
            foreach (var accounts in Transfers.AccountCounts)
            {
                await Run(row => Transfers.RunAsync(row, one[0], accounts, _run), Transfers.Rows);
            }

            // Eight processes per row take seconds to start: quick mode keeps DistLock, one peer and the floor.
            var processRows = quick ? [LockRow.DistLock, LockRow.RedLockNetTuned, LockRow.Raw] : LockRow.All;
            await Run(row => HotKeyProcesses.RunAsync("Hot key, 8 processes", row, one, checker, 8, _processRun), processRows);
            // Loopback round trips cost CPU, not time, and 3 servers share 2 cores: the figure above
            // measures the machine. With a delay added each way, a round trip costs time as on a
            // network, and parallel fan-out shows: 3 nodes cost about what one does.
            var proxies = servers.Take(3).Select(s => new DelayProxy(s.Endpoint, NetworkDelay)).ToList();
            LockRow[] delayedRows = quick ? [LockRow.DistLock, LockRow.RedLockNet] : [LockRow.DistLock, LockRow.RedLockNet, LockRow.Madelson];
            try
            {
                await Run(row => Throughput.RunAsync($"Uncontended, one node, {NetworkDelay.TotalMilliseconds} ms added each way", row, [proxies[0].Endpoint], 1, _delayedRun), delayedRows);
                await Run(row => Throughput.RunAsync($"Uncontended, Redlock over 3 nodes, {NetworkDelay.TotalMilliseconds} ms added each way", row, proxies.Select(p => p.Endpoint).ToArray(), 1, _delayedRun), delayedRows);
            }
            finally
            {
                foreach (var proxy in proxies)
                {
                    await proxy.DisposeAsync();
                }
            }

            await Run(row => HungNode.RunAsync("Redlock over 3 nodes, one of them hung (SIGSTOP)", row, quick ? 3 : 10),
                [LockRow.DistLock, LockRow.RedLockNet, LockRow.Madelson]);

            var blocked = await Task.WhenAll(redlockRows.Where(r => only is null || r.Key == only).Select(row =>
                BlockedWaiter.RunAsync($"A waiter blocked {_blocked.TotalSeconds:F0} s behind a held lock", row, servers[3].Endpoint, _blocked)));
            results.AddRange(blocked);
            if (only is null || only == LockRow.DistLock.Key)
            {
                var stalled = await StalledWaiter.RunAsync("A waiter stalled at the head of the line, the next one behind it", servers[3].Endpoint, quick ? 5 : 20);
                Console.Error.WriteLine($"{stalled.Scenario} | {stalled.Row} | {string.Join(", ", stalled.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
                results.Add(stalled);
                results.AddRange(await StalledLine.RunAsync("DistLock: k waiting processes first in line stopped or killed, a live waiter behind them", one, three, quick ? [1, 5] : [1, 2, 5]));
            }

            var version = (await RedisRigInfo.VersionAsync(servers[0])) ?? "?";
            return (results, version, Verdicts(results));
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private async Task MedianPassAsync(List<ScenarioResult> results, string scenario, string[] endpoints, int keys, IReadOnlyList<LockRow> allRows)
    {
        var rows = allRows.Where(r => (only is null || r.Key == only) && (scenarioFilter is null || scenario.StartsWith(scenarioFilter, StringComparison.Ordinal))).ToList();
        foreach (var row in rows)
        {
            await Throughput.RunAsync(scenario, row, endpoints, keys, TimeSpan.FromSeconds(0.3));
        }

        var measured = new Dictionary<LockRow, List<ScenarioResult>>();
        for (var pass = 0; pass < (quick ? 1 : passes); pass++)
        {
            foreach (var row in pass % 2 == 0 ? rows : rows.AsEnumerable().Reverse())
            {
                var result = await Throughput.RunAsync(scenario, row, endpoints, keys, _run);
                (measured.TryGetValue(row, out var list) ? list : measured[row] = []).Add(result);
            }
        }

        foreach (var row in rows)
        {
            static double Cycles(ScenarioResult r) => double.Parse(r.Metrics["cycles/s"], CultureInfo.InvariantCulture);
            var ranked = measured[row].OrderBy(Cycles).ToList();
            var median = ranked[ranked.Count / 2];
            var reported = ranked.Count < 3 ? median : median with
            {
                // How far the passes spread says how much a difference between rows can mean.
                Metrics = new Dictionary<string, string>(median.Metrics) { ["cycles/s range"] = $"{Cycles(ranked[0]):F0}-{Cycles(ranked[^1]):F0}" },
            };
            Console.Error.WriteLine($"{reported.Scenario} | {reported.Row} | {string.Join(", ", reported.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
            results.Add(reported);
        }
    }

    private static readonly string[] UncontendedScenarios =
    [
        "Uncontended, one task, one node",
        "64 independent keys, 64 tasks, one node",
        "Uncontended, one task, Redlock over 3 nodes",
        "64 independent keys, 64 tasks, Redlock over 3 nodes",
    ];

    private static List<string> Verdicts(List<ScenarioResult> results)
    {
        double Metric(string scenarioStart, LockRow row, string metric) =>
            results.FirstOrDefault(r => r.Scenario.StartsWith(scenarioStart, StringComparison.Ordinal) && r.Row == row.Name) is { } result
                ? double.Parse(result.Metrics[metric], CultureInfo.InvariantCulture)
                : double.NaN;
        string Check(bool ok, string text) => $"{(ok ? "met" : "NOT met")}: {text}";

        var switches32 = Metric("Hot key, 32 tasks in one process", LockRow.DistLock, "switches/s");
        var maxWait32 = Metric("Hot key, 32 tasks in one process", LockRow.DistLock, "wait max ms");
        var fairness32 = Metric("Hot key, 32 tasks in one process", LockRow.DistLock, "fairness min/max");
        var commands32 = Metric("Hot key, 32 tasks in one process", LockRow.DistLock, "server cmds/acq");
        var maxWait32Redlock = Metric("Hot key, 32 tasks in one process, Redlock", LockRow.DistLock, "wait max ms");
        var fairness32Redlock = Metric("Hot key, 32 tasks in one process, Redlock", LockRow.DistLock, "fairness min/max");
        var commands32Redlock = Metric("Hot key, 32 tasks in one process, Redlock", LockRow.DistLock, "server cmds/acq");
        var stalledLine = results.Where(r => r.Scenario.StartsWith("DistLock: k waiting processes", StringComparison.Ordinal)).ToList();
        var switchesProcesses = Metric("Hot key, 8 processes", LockRow.DistLock, "switches/s");
        var blockedCommands = Metric("A waiter blocked", LockRow.DistLock, "commands sent while blocked");
        var stalledMax = Metric("A waiter stalled", LockRow.DistLock, "max ms");
        var redlock = Metric("Uncontended, one task, Redlock", LockRow.DistLock, "cycles/s") / Metric("Uncontended, one task, one node", LockRow.DistLock, "cycles/s");
        var rwWriteWait = Metric("Reader-writer lock", LockRow.DistLock, "write wait max ms");
        var rwWrites = Metric("Reader-writer lock", LockRow.DistLock, "writes/s");
        var rwPeerWrites = Math.Max(Metric("Reader-writer lock", LockRow.Madelson, "writes/s"), Metric("Reader-writer lock", LockRow.MadelsonTuned, "writes/s"));
        var hungRelease = Metric("Redlock over 3 nodes, one of them hung", LockRow.DistLock, "release max ms");
        var redlockDelayed = Metric("Uncontended, Redlock over 3 nodes, 5 ms", LockRow.DistLock, "cycles/s") / Metric("Uncontended, one node, 5 ms", LockRow.DistLock, "cycles/s");
        List<string> verdicts =
        [
            Check(switches32 >= 3000 && maxWait32 <= 100 && fairness32 >= 0.5,
                $"hot key, 32 tasks: {switches32:F0} switches/s (>= 3000), max wait {maxWait32:F0} ms (<= 100), fairness {fairness32:F2} (>= 0.5)"),
            Check(commands32 <= 12 && maxWait32 <= 10 && fairness32 >= 1.0,
                $"hot key, 32 tasks, one node: {commands32:F1} commands per acquisition (<= 12), max wait {maxWait32:F0} ms (<= 10), fairness {fairness32:F2} (1.0)"),
            Check(commands32Redlock <= 36 && maxWait32Redlock <= 25 && fairness32Redlock >= 1.0,
                $"hot key, 32 tasks, Redlock over 3: {commands32Redlock:F1} commands per acquisition (<= 36), max wait {maxWait32Redlock:F0} ms (<= 25), fairness {fairness32Redlock:F2} (1.0)"),
            Check(stalledLine.Count > 0 && stalledLine.All(r => r.Metrics["within"] == "yes"),
                $"k stalled or dead waiters first in line: the live waiter behind them got the hold within k x grace + 100 ms in {stalledLine.Count(r => r.Metrics["within"] == "yes")} of {stalledLine.Count} cases"),
            Check(switchesProcesses >= 1000, $"hot key, 8 processes: {switchesProcesses:F0} switches/s (>= 1000)"),
            Check(blockedCommands <= 5, $"a blocked waiter sent {blockedCommands:F0} commands (<= 5)"),
            Check(stalledMax <= 200, $"behind a stalled waiter, the next got the lock within {stalledMax:F0} ms of the release (grace 50 ms + a round trip; <= 200)"),
            Check(rwWriteWait <= 100 && rwWrites >= 10 * rwPeerWrites,
                $"reader-writer lock, 32 tasks, 90% reads: writer max wait {rwWriteWait:F0} ms (<= 100), {rwWrites:F0} writes/s ({rwWrites / rwPeerWrites:F1}x the best peer's {rwPeerWrites:F0}; >= 10x)"),
            Check(redlock >= 0.7, $"Redlock over 3 nodes on loopback: {redlock:F2}x of one node (>= 0.7)"),
            Check(redlockDelayed >= 0.7, $"Redlock over 3 nodes with 5 ms added each way: {redlockDelayed:F2}x of one node (>= 0.7)"),
            Check(hungRelease < 100, $"Redlock over 3 nodes with one hung: the slowest release took {hungRelease:F1} ms (< 100; the node timeout is 1000)"),
            SemaphoreHotKey.Verdict(results),
            .. Transfers.Verdicts(results),
        ];

        // Issue 18: on the uncontended rows, DistLock against the best peer (the raw floor is no peer).
        var peers = LockRow.All.Where(r => r != LockRow.DistLock && r != LockRow.Raw).ToList();
        foreach (var scenario in UncontendedScenarios)
        {
            var cycles = Metric(scenario, LockRow.DistLock, "cycles/s");
            var p50 = Metric(scenario, LockRow.DistLock, "p50 ms");
            var p99 = Metric(scenario, LockRow.DistLock, "p99 ms");
            var cpu = Metric(scenario, LockRow.DistLock, "client CPU µs/cycle");
            var bestCycles = peers.Max(p => Metric(scenario, p, "cycles/s"));
            var bestP50 = peers.Min(p => Metric(scenario, p, "p50 ms"));
            var bestP99 = peers.Min(p => Metric(scenario, p, "p99 ms"));
            var bestCpu = peers.Min(p => Metric(scenario, p, "client CPU µs/cycle"));
            if (double.IsNaN(cycles) || double.IsNaN(bestCycles))
            {
                continue;
            }

            verdicts.Add(Check(cycles >= bestCycles, $"{scenario}: {cycles / bestCycles:F2}x the best peer's cycles/s ({cycles:F0} vs {bestCycles:F0}; >= 1.0)"));
            verdicts.Add(Check(p50 <= bestP50 && p99 <= bestP99,
                $"{scenario}: p50 {p50:F3} ms (best peer {bestP50:F3}), p99 {p99:F3} ms (best peer {bestP99:F3}); no higher than the best peer's"));
            verdicts.Add(Check(cpu <= 1.1 * bestCpu, $"{scenario}: client CPU {cpu:F1} µs/cycle, lowest peer {bestCpu:F1} (<= 1.1x)"));
        }

        // A scenario left out of this run (--uncontended, --only) has no verdict.
        return verdicts.Where(v => !v.Contains("NaN", StringComparison.Ordinal)).ToList();
    }
}
