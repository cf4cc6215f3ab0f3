using System.Runtime.InteropServices;
using System.Text;
using DistLock.Benchmarks.Scenarios;

namespace DistLock.Benchmarks;

/// <summary>Renders the results as Markdown tables, one per scenario, with the machine they ran on.</summary>
public static class Report
{
    public static string Render(IReadOnlyList<ScenarioResult> results, string redisVersion, bool quick, IEnumerable<string> verdicts)
    {
        var text = new StringBuilder();
        text.AppendLine("# Benchmarks").AppendLine();
        text.AppendLine("Produced by `dotnet run -c Release --project bench/DistLock.Benchmarks" + (quick ? " -- --quick" : string.Empty) + "`; every library ran in the same process and run, against the same redis-server processes started by the harness.").AppendLine();
        text.AppendLine($"- date: {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC{(quick ? " (quick mode: short runs, noisier figures)" : string.Empty)}");
        text.AppendLine($"- machine: {Environment.ProcessorCount} cores, {Cpu()}, {RuntimeInformation.OSDescription}");
        text.AppendLine($"- runtime: .NET {Environment.Version}; redis-server {redisVersion}, on loopback");
        text.AppendLine();
        text.AppendLine("## Targets (DistLock)").AppendLine();
        foreach (var verdict in verdicts)
        {
            text.AppendLine($"- {verdict}");
        }

        foreach (var scenario in results.GroupBy(r => r.Scenario))
        {
            var columns = scenario.First().Metrics.Keys.ToList();
            text.AppendLine().AppendLine($"## {scenario.Key}").AppendLine();
            text.AppendLine("| library | " + string.Join(" | ", columns) + " |");
            text.AppendLine("| --- |" + string.Concat(columns.Select(_ => " ---: |")));
            foreach (var row in scenario)
            {
                text.AppendLine($"| {row.Row} | " + string.Join(" | ", columns.Select(c => row.Metrics[c])) + " |");
            }
        }

        text.AppendLine().AppendLine(Legend);
        return text.ToString();
    }

    private const string Legend = """
        ## How to read this
        - **cycles/s**: acquire + release cycles per second; p50/p99 are per cycle. The uncontended
          rows are measured in passes of alternating order after a warm-up of every row, and the
          median pass is reported (of two, the better); with three or more (`--passes N`),
          **cycles/s range** is the slowest and fastest pass.
        - **handoffs/s**: acquisitions per second on the hot key; **switches/s** counts only those by
          a different task (or process) than the previous holder, the handoffs that matter.
        - **wait**: from asking to holding; a task still waiting at the end of the run counts with its
          whole wait. **fairness**: fewest acquisitions of a task divided by the most.
        - **violations**: two holders at once (must be 0). In the process runs it is judged on a
          separate redis-server every holder reports to.
        - **8 processes**: each worker holds the lock for three round trips to that checker server.
          Workers run with `DOTNET_TieredCompilation=0` and warm up (two tasks of their own contend
          for a key of their own) before the run, so the figures are steady state: with tiered
          compilation, eight processes compiling at once on two cores cost every library 40-50%.
        - **server cmds**: commands the Redis servers executed (INFO total_commands_processed),
          commands run inside scripts included, per cycle or acquisition.
        - **client CPU**: CPU time of the whole benchmark process (every thread: the library,
          StackExchange.Redis, the thread pool) during the run, per cycle; **server CPU**: the
          redis-servers' CPU time (INFO cpu) during the run, per cycle; **alloc**: bytes allocated by
          the process (GC.GetTotalAllocatedBytes) per cycle. On one task they include what idle
          threads spin; on 64 tasks the cores are busy and they are the cost of a cycle.
        - **transfers**: 32 tasks each move a unit between two random accounts, holding both
          accounts' locks together (DistLock: `TryAcquireAllAsync`; DistributedLock.Redis: its
          composite `TryAcquireAllLocksAsync`, given the names sorted, since it takes them one by one
          in the order given and two opposite orders would deadlock until the timeout). **wait**
          is until both are held; a violation is an account in two transfers at once or a lost unit.
        - **commands sent while blocked**: commands the waiter's connection sent, counted with
          StackExchange.Redis's profiler, from the start of the wait until it held the lock, after
          one short wait on another name (a script's first call on a server is answered NOSCRIPT
          and sent again with its text, once per server: not a cost of being blocked).
        - **stalled at the head**: a subscribed process that never claims what a release reserves
          for it (as a paused one would) is first in DistLock's line; the live waiter behind it
          hears of the handoff on the line's news and takes the lock when the reservation (the grace) runs out.
          DistLock only: the peers poll, so a stalled poller delays nobody.
        """;

    private static string Cpu()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }
}
