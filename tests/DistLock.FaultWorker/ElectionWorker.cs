using System.Diagnostics;
using System.Runtime.InteropServices;
using StackExchange.Redis;

namespace DistLock.FaultWorker;

/// <summary>
/// <c>--kind election</c>: a candidate in the election named by <c>--resource</c>, campaigning with
/// <see cref="LeaderElection.TermsAsync"/>. While it leads it works in steps of 10 ms for a hold
/// drawn from half of <c>--hold-ms</c> to all of it, each step checked against the term (its
/// <see cref="LeadershipTerm.Lost"/>) and then written to the fenced resource with the term's token;
/// then it resigns and campaigns again, at the back of the line. SIGTERM is a graceful shutdown: the
/// leader resigns, and the worker exits with 0.
/// </summary>
/// <remarks>
/// The history uses the lock worker's events, so that the checker and FaultRun read both: invoke (a
/// campaign begins), ok (a term began, with its token), write-ok and write-rejected (a step of work
/// as the leader; no "use" besides: these runs are out of the model, where hold intervals are not
/// judged, and fewer lines are less for the test to read), lost (the term ended under the leader),
/// release-invoke and release (the resignation, and whether it released the lease). After a loss
/// the deposed leader writes once more with the ended term's token, as a leader that resumed from a
/// pause would before it looked: the fenced store must refuse it once a later leader has written.
/// </remarks>
internal static class ElectionWorker
{
    public static async Task RunAsync(ILockManager locks, WorkerSettings settings, HistoryWriter history, Func<long, Task> writeFenced, long until)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(0, Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until).Ticks)));
        using var shutdown = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true; // not the runtime's exit: the worker resigns first
            stop.Cancel();
        });
        await using var election = locks.CreateElection(settings.Resource, new LeaderElectionOptions
        {
            Ttl = settings.Ttl,
            HolderLabel = "worker " + settings.Id,

            // While Redis is paused, campaigns back off; capped at a second so that the failover after
            // Redis is back stays within a bound a run of seconds can check.
            MaxRetryBackoff = TimeSpan.FromSeconds(1),
        });

        try
        {
            history.Write("invoke");
            await foreach (var term in election.TermsAsync(stop.Token))
            {
                await LeadAsync(term, settings, history, writeFenced, stop.Token);
                history.Write("invoke");
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over, or SIGTERM: no more campaigns.
        }
    }

    private static async Task LeadAsync(LeadershipTerm term, WorkerSettings settings, HistoryWriter history, Func<long, Task> writeFenced, CancellationToken stop)
    {
        var token = term.FencingToken;
        history.Write("ok", token, "term");
        await using (term)
        {
            var hold = settings.Hold * (0.5 + (Random.Shared.NextDouble() / 2));
            var leaveAt = Stopwatch.GetTimestamp() + (long)(hold.TotalSeconds * Stopwatch.Frequency);
            var lost = false;
            while (Stopwatch.GetTimestamp() < leaveAt && !stop.IsCancellationRequested)
            {
                // Lost judges the lease on the clock first: a leader paused past it sees it here.
                if (term.Lost.IsCancellationRequested)
                {
                    lost = true;
                    break;
                }

                await TryWriteAsync(token);
                await Task.Delay(10); // a step of the leader's work
            }

            if (lost || term.Lost.IsCancellationRequested)
            {
                history.Write("lost", token);
                await TryWriteAsync(token);
            }

            history.Write("release-invoke", token);
            try
            {
                history.Write("release", token, (await term.ResignAsync(CancellationToken.None)).ToString());
            }
            catch (LockBackendException ex)
            {
                // Redis did not answer: the lease runs out on its own.
                history.Write("release-error", token, ex.GetType().Name);
            }
        }

        async Task TryWriteAsync(long fencingToken)
        {
            try
            {
                await writeFenced(fencingToken);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // A write whose answer timed out while this process was stopped: its outcome is
                // unknown, so it is no accepted write the checker could hold against anyone.
                history.Write("write-unknown", fencingToken, ex.GetType().Name);
            }
        }
    }
}
