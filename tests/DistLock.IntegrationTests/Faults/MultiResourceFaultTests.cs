using System.Diagnostics;
using System.Globalization;
using DistLock.RedisRig;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests.Faults;

/// <summary>
/// Several resources at once under faults (issue 26): five worker processes (DistLock.FaultWorker
/// <c>--kind multi</c>) take random sets of 1 to 4 of 20 names together, so that their sets overlap,
/// on one redis-server and on Redlock over three, while the test stops a holder past its lease
/// (SIGSTOP), stops a waiter while a member it waits for is held, kills a holder (SIGKILL) or shuts
/// one down (SIGTERM), starting a new worker for each one gone, and pauses Redis (on Redlock one
/// node of the three). Every kind of fault comes once, in a random order, then more at random until
/// 6 s have passed (DISTLOCK_SOAK=1: 120 s). <see cref="MultiResourceChecker"/> then proves, per
/// member, that no two holds held it at once (their steps, and their accepted fenced writes, never
/// interleaved), that its tokens rose and no stale write was accepted, and that every live worker
/// kept acquiring: no deadlock and no waiter left stuck.
/// </summary>
[Collection(FaultSuiteCollection.Name)]
public sealed class MultiResourceFaultTests(ITestOutputHelper output)
{
    private const int TtlMs = 1000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly string[] Kinds = ["stop", "stop-waiter", "kill", "restart", "redis"];

    // The longest a live worker may go without an acquisition. What it may wait for: a Redis pause
    // (at most 1.5 TTL), a dead or stopped holder's lease (a TTL), the holds ahead of it in its
    // members' lines (four of at most 100 ms) and a retry after an outage: about 3 s. Generous, for
    // a loaded 2-core machine; below the workers' wait (10 s), so that a waiter stuck until it gives
    // up shows, as does a deadlock (the rest of the run). Judged from when every worker had acquired:
    // five processes starting at once on a loaded machine take seconds to their first acquisition.
    private static readonly TimeSpan ProgressBound = TimeSpan.FromSeconds(8);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task RandomOverlappingSets_HoldersStoppedKilledOrShutDown_RedisPaused_NoMemberHeldTwice_TokensRise_EveryWorkerProgresses(int nodes)
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var faulting = TimeSpan.FromSeconds(FaultRun.Seconds(6));
        var servers = await Task.WhenAll(Enumerable.Range(0, nodes).Select(_ => RedisServer.StartAsync()));
        try
        {
            // The run ends when the test says (SIGTERM to all); the workers' own end is only a backstop.
            await using var run = await FaultRun.StartAsync(
                servers, workers: 5, seconds: faulting.TotalSeconds + 60, TtlMs, holdMs: 100, waitMs: 10_000,
                kind: ["--kind", "multi", "--names", "20", "--largest-set", "4"]);
            var faults = new List<HistoryChecker.Fault>();

            // Faults once every worker has acquired: they take seconds to start on a loaded machine.
            await run.WaitForAsync(h => Enumerable.Range(0, run.Count).All(id => h.Any(e => e.Kind == "ok" && e.Worker == Id(id))), Patience);
            var began = Stopwatch.GetTimestamp();
            var kinds = new Queue<string>(Kinds.OrderBy(_ => random.Next()));
            while (kinds.Count > 0 || Stopwatch.GetElapsedTime(began) < faulting)
            {
                var kind = kinds.Count > 0 ? kinds.Dequeue() : Kinds[random.Next(Kinds.Length)];
                HistoryChecker.Fault fault;
                try
                {
                    fault = await InjectAsync(run, servers, kind, faults, random);
                }
                catch (TimeoutException ex)
                {
                    // Nobody held or waited as the fault needs for the whole patience: the checker says why.
                    output.WriteLine($"no {kind} fault: {ex.Message}");
                    break;
                }

                faults.Add(fault);

                // The next fault once every live worker has acquired since this one ended; a run stuck
                // here goes on to its end, and the checker names who made no progress.
                await WaitOrGoOnAsync(run, h => Live(run, faults).All(id => h.Any(e => e.Kind == "ok" && e.Worker == id && e.Time > fault.To)), $"every worker to acquire after the {fault.Kind}");
            }

            var endedAt = Stopwatch.GetTimestamp();
            run.TerminateAll();
            var history = await run.FinishAsync(Patience);

            Report(history, faults, began, endedAt, seed);
            var violations = MultiResourceChecker.Check(history, faults)
                .Concat(MultiResourceChecker.CheckProgress(history, faults, ProgressBound, began, endedAt))
                .ToList();
            if (violations.Count > 0)
            {
                ShowHistory(history, violations);
            }

            Assert.Empty(violations);
            Assert.True(history.Count(e => e.Kind == "ok" && e.Detail.Contains(',', StringComparison.Ordinal)) >= 20, "too few sets of several members were taken");
            Assert.Contains(history, e => e.Kind == "write-rejected"); // the stopped holder's late writes
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task BrokenClient_WorkingOnAfterItsSetWasLost_IsCaughtByTheChecker()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync(
            [redis], workers: 3, seconds: 3, ttlMs: 100, holdMs: 300, mode: "ignore-lost", kind: ["--kind", "multi", "--names", "4", "--largest-set", "3"]);

        var history = await run.FinishAsync(Patience);

        var violations = MultiResourceChecker.Check(history, []);
        output.WriteLine($"{violations.Count} violation(s), e.g. {violations.FirstOrDefault()}");
        Assert.Contains(violations, v => v.Contains(": overlap", StringComparison.Ordinal));
    }

    /// <summary>Injects one fault, and returns when it began and ended.</summary>
    private async Task<HistoryChecker.Fault> InjectAsync(FaultRun run, RedisServer[] servers, string kind, List<HistoryChecker.Fault> faults, Random random)
    {
        var gone = faults.Where(f => f.Kind is "kill" or "restart").Select(f => f.Worker).ToHashSet();
        switch (kind)
        {
            case "redis":
            {
                // Half a lease to one and a half: holders keep their sets through some pauses and lose them in others.
                var (pausedAt, resumedAt) = await FaultRun.PauseAsync(servers[random.Next(servers.Length)], TimeSpan.FromMilliseconds(TtlMs * (0.5 + random.NextDouble())));
                return new HistoryChecker.Fault(kind, -1, pausedAt, resumedAt);
            }

            case "stop-waiter":
            {
                var (waiter, wanted) = await StopWaiterAsync(run, gone);
                var stoppedAt = Stopwatch.GetTimestamp();

                // Stopped until others have taken two sets with its members since: the line goes on without it.
                await WaitOrGoOnAsync(run, h => h.Count(e => e.Kind == "ok" && e.Time > stoppedAt && Members(e.Detail).Intersect(wanted).Any()) >= 2, "the line to pass the stopped waiter");
                var continuedAt = Stopwatch.GetTimestamp();
                run.Signal(waiter, Signals.SigCont);
                return new HistoryChecker.Fault(kind, waiter, stoppedAt, continuedAt);
            }

            default:
            {
                var (holder, token, members) = await StopHolderAsync(run, gone);
                var stoppedAt = Stopwatch.GetTimestamp();
                switch (kind)
                {
                    case "stop":
                    {
                        // Continued once another holder has written to one of its members: its late writes meet a newer token.
                        await WaitOrGoOnAsync(run, h => h.Any(e => e.Kind == "write-ok" && e.Token > token && members.Contains(WrittenMember(e))), "a newer holder of a stopped holder's member");
                        var continuedAt = Stopwatch.GetTimestamp();
                        run.Signal(holder, Signals.SigCont);
                        return new HistoryChecker.Fault(kind, holder, stoppedAt, continuedAt);
                    }

                    default:
                    {
                        // Killed, or shut down (acted on once continued: it counts from then); a new worker takes its place.
                        var goneAt = run.Replace(holder, graceful: kind == "restart");
                        return new HistoryChecker.Fault(kind, holder, goneAt, goneAt);
                    }
                }
            }
        }
    }

    /// <summary>Stops (SIGSTOP) a worker that holds a set, seen holding it in the history read after the stop: it holds until continued.</summary>
    private static async Task<(int Worker, long Token, string[] Members)> StopHolderAsync(FaultRun run, HashSet<int> gone)
    {
        while (true)
        {
            var seen = (await FirstAsync(run, h => Holders(h).Where(x => !gone.Contains(x.Worker))))[0];
            await run.StopAsync(seen.Worker);
            if (Holders(run.History()).Any(x => x.Worker == seen.Worker && x.Token == seen.Token))
            {
                return seen;
            }

            run.Signal(seen.Worker, Signals.SigCont);
        }
    }

    /// <summary>
    /// Stops (SIGSTOP) a worker that waits for a set while another holds one of its members, seen so
    /// in the history read after the stop: the holder had not begun to release, so the waiter was
    /// still waiting when it was stopped.
    /// </summary>
    private static async Task<(int Worker, string[] Wanted)> StopWaiterAsync(FaultRun run, HashSet<int> gone)
    {
        while (true)
        {
            var seen = (await FirstAsync(run, h => BlockedWaiters(h).Where(x => !gone.Contains(x.Worker) && !gone.Contains(x.Holder))))[0];
            await run.StopAsync(seen.Worker);
            if (BlockedWaiters(run.History()).Any(x => x.Worker == seen.Worker && x.Asked == seen.Asked && x.Holder == seen.Holder && x.Token == seen.Token))
            {
                return (seen.Worker, seen.Wanted);
            }

            run.Signal(seen.Worker, Signals.SigCont);
        }
    }

    /// <summary>Waits until <paramref name="found"/> finds something in the history; returns what it found.</summary>
    private static async Task<List<T>> FirstAsync<T>(FaultRun run, Func<List<HistoryEvent>, IEnumerable<T>> found)
    {
        var seen = new List<T>();
        await run.WaitForAsync(
            h =>
            {
                seen.AddRange(found(h).Take(1));
                return seen.Count > 0;
            },
            Patience);
        return seen;
    }

    /// <summary>The workers that hold a set now: their last acquisition answered, not yet lost or releasing.</summary>
    private static IEnumerable<(int Worker, long Token, string[] Members)> Holders(List<HistoryEvent> history) =>
        history.Where(e => e.Kind is "ok" or "release-invoke" or "lost")
            .GroupBy(e => e.Worker)
            .Select(g => g.Last())
            .Where(e => e.Kind == "ok")
            .Select(e => (int.Parse(e.Worker, CultureInfo.InvariantCulture), e.Token, Members(e.Detail)));

    /// <summary>
    /// The workers that wait for a set (asked when, for what) while another holds one of its members
    /// (who, with which token: one that is gone may still hold, in the history, what it held when it died).
    /// </summary>
    private static IEnumerable<(int Worker, long Asked, string[] Wanted, int Holder, long Token)> BlockedWaiters(List<HistoryEvent> history)
    {
        var holders = Holders(history).ToList();
        return history.GroupBy(e => e.Worker)
            .Select(g => g.Last())
            .Where(e => e.Kind == "invoke")
            .SelectMany(e => holders.Where(h => h.Members.Intersect(Members(e.Detail)).Any())
                .Select(h => (int.Parse(e.Worker, CultureInfo.InvariantCulture), e.Time, Members(e.Detail), h.Worker, h.Token)));
    }

    /// <summary>The workers neither killed nor shut down.</summary>
    private static IEnumerable<string> Live(FaultRun run, List<HistoryChecker.Fault> faults) =>
        Enumerable.Range(0, run.Count).Where(id => !faults.Any(f => f.Kind is "kill" or "restart" && f.Worker == id)).Select(Id);

    /// <summary>Waits for <paramref name="condition"/>; past the patience, says so and goes on: a run stuck is the checker's to judge, with the history.</summary>
    private async Task WaitOrGoOnAsync(FaultRun run, Func<List<HistoryEvent>, bool> condition, string what)
    {
        try
        {
            await run.WaitForAsync(condition, Patience);
        }
        catch (TimeoutException)
        {
            output.WriteLine($"gave up waiting for {what} after {Patience.TotalSeconds:F0} s");
        }
    }

    private void Report(List<HistoryEvent> history, List<HistoryChecker.Fault> faults, long began, long endedAt, int seed)
    {
        var holds = HistoryChecker.Holds(history);
        var waits = holds.Select(h => Stopwatch.GetElapsedTime(h.Invoked, h.Start).TotalMilliseconds).Order().ToList();
        var gaps = MultiResourceChecker.Gaps(history, faults, began, endedAt);
        output.WriteLine($"seed {seed}; faults: {string.Join(", ", faults.Select(f => f.Kind == "redis" ? $"redis paused {Stopwatch.GetElapsedTime(f.From, f.To).TotalMilliseconds:F0} ms" : $"{f.Kind} {f.Worker}"))}");
        var sizes = history.Where(e => e.Kind == "ok").GroupBy(e => Members(e.Detail).Length).OrderBy(g => g.Key).Select(g => $"{g.Count()} of {g.Key}");
        output.WriteLine($"{holds.Count} sets held by {holds.Select(h => h.Worker).Distinct().Count()} workers ({string.Join(", ", sizes)}), " +
            $"{history.Count(e => e.Kind == "write-ok")} fenced writes accepted, {history.Count(e => e.Kind == "write-rejected")} refused, " +
            $"{history.Count(e => e.Kind == "write-unknown")} unknown, {history.Count(e => e.Kind == "lost")} sets lost, {history.Count(e => e.Kind == "fail")} waits timed out");
        output.WriteLine($"wait for a set: median {waits[waits.Count / 2]:F0} ms, 99th percentile {waits[waits.Count * 99 / 100]:F0} ms, at most {waits[^1]:F0} ms; " +
            $"longest stretch of a worker without a set {gaps.Max(g => g.Length).TotalMilliseconds:F0} ms (bound {ProgressBound.TotalMilliseconds:F0} ms)");
    }

    /// <summary>For the reader of a failure: the violations, then the run without its steps of work.</summary>
    private void ShowHistory(List<HistoryEvent> history, List<string> violations)
    {
        violations.ForEach(output.WriteLine);
        foreach (var e in history.Where(e => e.Kind is not ("use" or "write-ok")))
        {
            output.WriteLine($"  {Stopwatch.GetElapsedTime(history[0].Time, e.Time).TotalMilliseconds,9:F1} ms  worker {e.Worker} {e.Kind} {e.Token} {e.Detail}");
        }
    }

    private static string[] Members(string detail) => detail.Split(',', StringSplitOptions.RemoveEmptyEntries);

    private static string WrittenMember(HistoryEvent write) => write.Detail[..write.Detail.IndexOf('@', StringComparison.Ordinal)];

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);
}
