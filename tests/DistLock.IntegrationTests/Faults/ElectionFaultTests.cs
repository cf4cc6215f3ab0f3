using System.Diagnostics;
using System.Globalization;
using DistLock.RedisRig;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests.Faults;

/// <summary>
/// Leader election under faults (issue 27): five candidate processes (DistLock.FaultWorker
/// <c>--kind election</c>) campaign on one redis-server while the test stops the leader past its
/// lease (SIGSTOP), kills it (SIGKILL) or restarts it (SIGTERM, a graceful shutdown), each time
/// starting a new candidate for the one that is gone, and pauses Redis. Every kind of fault comes
/// once, in a random order, then more at random until 15 s have passed (DISTLOCK_SOAK=1: 300 s).
/// The history checker then proves that no two terms overlapped as the fenced store saw them
/// (no accepted write below an accepted write before it; a stopped leader's writes refused once it
/// was continued), that every failover stayed within its bound, and that every candidate led.
/// </summary>
[Collection(FaultSuiteCollection.Name)]
public sealed class ElectionFaultTests(ITestOutputHelper output)
{
    private const int TtlMs = 2000;
    private const int GraceMs = 20; // the worker's HandoffGrace
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // A resignation wakes the next candidate: a second is generous on a loaded 2-core machine. A
    // leader that is gone is waited out: its lease, the grace, and a margin for the candidate's wake
    // and attempt. After a Redis pause the candidates may be in their backoff: an attempt's timeout
    // (the worker's NodeTimeout, 300 ms) and a pause of at most 1 s (the worker's MaxRetryBackoff).
    private const int BackoffMs = 300 + 1000;
    private static readonly HistoryChecker.FailoverBounds Bounds = new(
        Handover: TimeSpan.FromSeconds(1),
        LeaderGone: TimeSpan.FromMilliseconds(TtlMs + GraceMs + 1500),
        RedisBack: TimeSpan.FromMilliseconds(TtlMs + BackoffMs + 1500),
        Backoff: TimeSpan.FromMilliseconds(BackoffMs));

    [Fact]
    public async Task FiveCandidates_LeaderStoppedKilledOrRestarted_RedisPaused_TermsNeverOverlapInTheStore_AndFailoversStayInBound()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var faulting = TimeSpan.FromSeconds(FaultRun.Seconds(15));
        await using var redis = await RedisServer.StartAsync();

        // The run ends when the test says (SIGTERM to all); the workers' own end is only a backstop.
        await using var run = await FaultRun.StartAsync(
            [redis], workers: 5, seconds: faulting.TotalSeconds + 60, TtlMs, holdMs: 400, kind: ["--kind", "election"]);
        var faults = new List<HistoryChecker.Fault>();

        // Faults from the first term on: the workers take seconds to start on a loaded machine.
        await run.WaitForHolderAsync(Patience);
        var began = Stopwatch.GetTimestamp();
        var kinds = new Queue<string>(new[] { "stop", "kill", "restart", "redis" }.OrderBy(_ => random.Next()));
        while (kinds.Count > 0 || Stopwatch.GetElapsedTime(began) < faulting)
        {
            var kind = kinds.Count > 0 ? kinds.Dequeue() : new[] { "stop", "kill", "restart", "redis" }[random.Next(4)];
            var fault = await InjectAsync(run, redis, kind, random);
            faults.Add(fault);

            // The next fault only once a leader writes again and two terms have begun since, so that
            // each failover is measured on its own, with graceful handovers between them.
            await run.WaitForAsync(h => h.Any(e => e.Kind == "write-ok" && e.Time > fault.To) && h.Count(e => e.Kind == "ok" && e.Time > fault.To) >= 2, Patience);
        }

        // Every candidate still running (the replacements too) leads at least once before the end.
        var gone = faults.Where(f => f.Kind is "kill" or "restart").Select(f => f.Worker.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        var running = Enumerable.Range(0, run.Count).Select(id => id.ToString(CultureInfo.InvariantCulture)).Where(id => !gone.Contains(id)).ToList();
        await run.WaitForAsync(h => running.All(id => h.Any(e => e.Kind == "ok" && e.Worker == id)), Patience);
        var endedAt = Stopwatch.GetTimestamp();
        run.TerminateAll();
        var history = await run.FinishAsync(Patience);

        var failovers = HistoryChecker.Failovers(history, faults, Bounds, endedAt);
        output.WriteLine($"seed {seed}; faults: {string.Join(", ", faults.Select(f => f.Kind == "redis" ? $"redis paused {Stopwatch.GetElapsedTime(f.From, f.To).TotalMilliseconds:F0} ms" : $"{f.Kind} {f.Worker}"))}");
        foreach (var cause in failovers.GroupBy(f => f.Cause))
        {
            var took = cause.Select(f => f.Took?.TotalMilliseconds ?? double.PositiveInfinity).Order().ToList();
            output.WriteLine($"{cause.Key}: {took.Count}, the next leader after a median {took[took.Count / 2]:F0} ms, at most {took[^1]:F0} ms");
        }

        output.WriteLine($"{history.Count(e => e.Kind == "ok")} terms by {history.Where(e => e.Kind == "ok").Select(e => e.Worker).Distinct().Count()} candidates, " +
            $"{history.Count(e => e.Kind == "write-ok")} fenced writes accepted, {history.Count(e => e.Kind == "write-rejected")} refused, " +
            $"{history.Count(e => e.Kind == "lost")} terms lost");
        var violations = HistoryChecker.Check(history, inModel: false)
            .Concat(HistoryChecker.CheckFailovers(history, faults, Bounds, endedAt))
            .Concat(HistoryChecker.CheckProgress(history, endedAt))
            .ToList();
        if (violations.Count > 0)
        {
            // For the reader of a failure: the run without its steps of work.
            foreach (var e in history.Where(e => e.Kind is not ("use" or "write-ok")))
            {
                output.WriteLine($"  {Stopwatch.GetElapsedTime(began, e.Time).TotalMilliseconds,9:F1} ms  worker {e.Worker} {e.Kind} {e.Token} {e.Detail}");
            }
        }

        Assert.Empty(violations);
        Assert.Contains(failovers, f => f.Cause == "handover");
        Assert.Contains(history, e => e.Kind == "write-rejected");
    }

    /// <summary>Injects one fault on the leader of the moment (or Redis), and returns when it began and ended.</summary>
    private async Task<HistoryChecker.Fault> InjectAsync(FaultRun run, RedisServer redis, string kind, Random random)
    {
        if (kind == "redis")
        {
            // Half a lease to one and a half: the leader keeps its term through some pauses and loses it in others.
            var (pausedAt, resumedAt) = await FaultRun.PauseAsync(redis, TimeSpan.FromMilliseconds(TtlMs * (0.5 + random.NextDouble())));
            return new HistoryChecker.Fault(kind, -1, pausedAt, resumedAt);
        }

        // Stopped first, seen to lead while stopped, and a candidate waiting: the fault meets a leader.
        var (leader, _) = await run.StopHolderWithWaitersAsync(1, Patience);
        var stoppedAt = Stopwatch.GetTimestamp();
        switch (kind)
        {
            case "stop":
            {
                // Continued once the next leader has written: the stopped one's late writes meet a newer token.
                var token = run.History().Last(e => e.Kind == "ok" && e.Worker == leader.ToString(CultureInfo.InvariantCulture)).Token;
                await run.WaitForAsync(h => h.Any(e => e.Kind == "write-ok" && e.Token > token), Patience);
                var continuedAt = Stopwatch.GetTimestamp();
                run.Signal(leader, Signals.SigCont);
                return new HistoryChecker.Fault(kind, leader, stoppedAt, continuedAt);
            }

            case "kill":
                run.Replace(leader, graceful: false);
                return new HistoryChecker.Fault(kind, leader, stoppedAt, stoppedAt);

            default:
            {
                // The shutdown is asked for while stopped and acted on once continued: it counts from then.
                var continuedAt = run.Replace(leader, graceful: true);
                return new HistoryChecker.Fault(kind, leader, continuedAt, continuedAt);
            }
        }
    }
}
