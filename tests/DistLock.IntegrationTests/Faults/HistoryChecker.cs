using System.Diagnostics;
using System.Globalization;

namespace DistLock.IntegrationTests.Faults;

/// <summary>
/// Reads the histories of all workers of one run and lists what went wrong:
/// <list type="bullet">
/// <item>two holders whose hold intervals overlap (only in runs inside the model: no process or
/// server paused past a TTL, no server restarted empty), where a hold lasts from the acquire's
/// answer to the last step of work that saw the lock held;</item>
/// <item>fencing tokens not unique and increasing in the real-time order of acquisitions;</item>
/// <item>a stale write accepted by the fenced resource: a write accepted after (in real time)
/// another accepted write with a higher token.</item>
/// </list>
/// Shared holds (the "ok" event names the mode) are judged by their own rules: a semaphore's holds
/// (<c>permits</c> of them) never more than that many at any instant; an exclusive hold (the write
/// lock) overlaps no other hold, read locks overlap each other freely; and their tokens, issued concurrently, are
/// checked against the acquisitions that had answered before each one was asked (see
/// <see cref="CheckSharedTokens"/>).
/// An election's history (the terms are the holds) is judged by these rules too, and by
/// <see cref="CheckFailovers"/> and <see cref="CheckProgress"/>.
/// </summary>
public static class HistoryChecker
{
    /// <param name="history">The merged history.</param>
    /// <param name="inModel">Whether the run stayed inside the model (see above): only then are overlaps checked.</param>
    /// <param name="permits">For a semaphore's history: its maxCount.</param>
    public static List<string> Check(IReadOnlyList<HistoryEvent> history, bool inModel, int permits = 1)
    {
        var violations = new List<string>();
        var holds = Holds(history);
        // Exclusive holds alone are the plain lock's history, judged by the strict rules; beside readers
        // they are the writers of a reader-writer lock.
        var shared = holds.Any(h => h.Mode is SemaphoreMode or ReadMode);
        if (inModel)
        {
            if (shared)
            {
                CheckSharedOverlaps(holds, permits, violations);
            }
            else
            {
                CheckOverlaps(holds, violations);
            }
        }

        if (shared)
        {
            CheckSharedTokens(holds, violations);
        }
        else
        {
            CheckTokens(holds, violations);
        }

        CheckFencedWrites(history, violations);
        return violations;
    }

    private const string SemaphoreMode = "Semaphore";
    private const string ReadMode = "Read";
    private const string ExclusiveMode = "Exclusive";

    /// <summary>The acquisitions: who, with which token, from when to the last use that saw the lock held.</summary>
    public static List<Hold> Holds(IReadOnlyList<HistoryEvent> history)
    {
        // A worker's token is unique to one acquisition, so (worker, token) names it.
        var lastUse = new Dictionary<(string, long), long>();
        foreach (var use in history.Where(e => e.Kind == "use"))
        {
            lastUse[(use.Worker, use.Token)] = Math.Max(use.Time, lastUse.GetValueOrDefault((use.Worker, use.Token)));
        }

        // Each acquisition was asked at its worker's last "invoke" before the answer.
        var invoked = new Dictionary<string, long>();
        var holds = new List<Hold>();
        foreach (var e in history)
        {
            if (e.Kind == "invoke")
            {
                invoked[e.Worker] = e.Time;
            }
            else if (e.Kind == "ok")
            {
                var used = lastUse.TryGetValue((e.Worker, e.Token), out var last);
                holds.Add(new Hold(e.Worker, e.Token, e.Time, Math.Max(e.Time, last))
                {
                    Mode = e.Detail,
                    Invoked = invoked.GetValueOrDefault(e.Worker, e.Time),
                    Used = used,
                });
            }
        }

        return holds;
    }

    /// <summary>
    /// Shared holds: at no instant more than <paramref name="permits"/> semaphore holds, and no
    /// write hold overlapping any other hold. A hold that never did any work (its holder found the
    /// lease gone before the first step) held nothing.
    /// </summary>
    private static void CheckSharedOverlaps(List<Hold> holds, int permits, List<string> violations)
    {
        var active = new List<Hold>();
        foreach (var hold in holds.Where(h => h.Used).OrderBy(h => h.Start))
        {
            active.RemoveAll(h => h.End < hold.Start);
            if (hold.Mode == SemaphoreMode && active.Count(h => h.Mode == SemaphoreMode) >= permits)
            {
                violations.Add($"bound: worker {hold.Worker} (token {hold.Token}) acquired while {active.Count} others held the semaphore of {permits} ({Describe(active)})");
            }

            if (hold.Mode == ExclusiveMode && active.Count > 0)
            {
                violations.Add($"overlap: writer {hold.Worker} (token {hold.Token}) acquired while {Describe(active)} still held the lock");
            }
            else if (active.FirstOrDefault(h => h.Mode == ExclusiveMode) is { } writer)
            {
                violations.Add($"overlap: worker {hold.Worker} (token {hold.Token}, {hold.Mode}) acquired while writer {writer.Worker} (token {writer.Token}) still held the lock");
            }

            active.Add(hold);
        }
    }

    /// <summary>
    /// Tokens of shared holds, which are issued concurrently: every semaphore token and every write
    /// token is unique and higher than every token whose acquisition had answered before it was
    /// asked (read tokens are only the floor for the writes after them).
    /// </summary>
    private static void CheckSharedTokens(List<Hold> holds, List<string> violations)
    {
        foreach (var duplicate in holds.Where(h => h.Mode != ReadMode).GroupBy(h => h.Token).Where(g => g.Count() > 1))
        {
            violations.Add($"token order: token {duplicate.Key} issued {duplicate.Count()} times");
        }

        var answered = holds.OrderBy(h => h.Start).ToList();
        var next = 0;
        Hold? highest = null;
        foreach (var hold in holds.OrderBy(h => h.Invoked))
        {
            while (next < answered.Count && answered[next].Start < hold.Invoked)
            {
                if (highest is null || answered[next].Token > highest.Token)
                {
                    highest = answered[next];
                }

                next++;
            }

            if (hold.Mode != ReadMode && highest is not null && hold.Token <= highest.Token)
            {
                violations.Add($"token order: worker {hold.Worker} got token {hold.Token} after worker {highest.Worker} got {highest.Token}");
            }
        }
    }

    private static string Describe(IEnumerable<Hold> holds) =>
        string.Join(", ", holds.Select(h => $"worker {h.Worker} token {h.Token}"));

    private static void CheckOverlaps(List<Hold> holds, List<string> violations)
    {
        Hold? previous = null;
        foreach (var hold in holds.OrderBy(h => h.Start))
        {
            if (previous is not null && hold.Start <= previous.End)
            {
                violations.Add($"overlap: worker {hold.Worker} (token {hold.Token}) acquired {Ms(previous.End - hold.Start)} before worker {previous.Worker} (token {previous.Token}) stopped using the lock");
            }

            if (previous is null || hold.End > previous.End)
            {
                previous = hold;
            }
        }
    }

    private static void CheckTokens(List<Hold> holds, List<string> violations)
    {
        var ordered = holds.OrderBy(h => h.Start).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            if (ordered[i].Token <= ordered[i - 1].Token)
            {
                violations.Add($"token order: worker {ordered[i].Worker} got token {ordered[i].Token} after worker {ordered[i - 1].Worker} got {ordered[i - 1].Token}");
            }
        }
    }

    private static void CheckFencedWrites(IReadOnlyList<HistoryEvent> history, List<string> violations)
    {
        // Accepted writes as (invoked, returned, token): a write that began after another had
        // returned must not carry a lower token.
        var accepted = history
            .Where(e => e.Kind == "write-ok")
            .Select(e => (Invoked: long.Parse(e.Detail, CultureInfo.InvariantCulture), Returned: e.Time, e.Token, e.Worker))
            .ToList();
        var byReturn = accepted.OrderBy(w => w.Returned).ToList();
        var next = 0;
        long highest = 0;
        var highestWorker = "";
        foreach (var write in accepted.OrderBy(w => w.Invoked))
        {
            while (next < byReturn.Count && byReturn[next].Returned < write.Invoked)
            {
                if (byReturn[next].Token > highest)
                {
                    (highest, highestWorker) = (byReturn[next].Token, byReturn[next].Worker);
                }

                next++;
            }

            if (write.Token < highest)
            {
                violations.Add($"stale write: worker {write.Worker} wrote with token {write.Token} after worker {highestWorker}'s write with {highest} was accepted");
            }
        }
    }

    /// <summary>
    /// An election's failovers (the election worker's history, where "ok" begins a term and "release"
    /// True is a resignation that released the lease), one per resignation while another candidate
    /// campaigned and one per fault: how long until the next term, or, after a Redis pause, until a
    /// leader's write was accepted again (a leader that kept its lease through the pause needs no new term).
    /// A handover still under way when Redis was paused, or begun less than
    /// <see cref="FailoverBounds.Backoff"/> after, is the pause's failover, not a handover: the
    /// candidates may be in their backoff then.
    /// </summary>
    /// <param name="history">The merged history.</param>
    /// <param name="faults">What the test did, in order.</param>
    /// <param name="bounds">The bounds, for the stretch around a Redis pause that is its failover's.</param>
    /// <param name="until">When the test began to end the run: resignations after it (or less than a handover's bound before) may hand over to nobody.</param>
    public static List<Failover> Failovers(IReadOnlyList<HistoryEvent> history, IReadOnlyList<Fault> faults, FailoverBounds bounds, long until)
    {
        var failovers = new List<Failover>();
        foreach (var release in history.Where(e => e is { Kind: "release", Detail: "True" }))
        {
            // From the resignation's start: the woken candidate may take the lease before the
            // resigning worker has read the answer to its release. One the end of the run may have
            // cut short (the candidate woken for it told to shut down) is not judged.
            var resigned = history.Last(e => e.Kind == "release-invoke" && e.Worker == release.Worker && e.Token == release.Token && e.Time <= release.Time).Time;
            if (resigned + Ticks(bounds.Handover) > until)
            {
                continue;
            }

            var took = Until(history, resigned, e => e.Kind == "ok" && e.Worker != release.Worker);
            var handedOver = took is { } t ? resigned + Ticks(t) : long.MaxValue;
            var meetsAPause = faults.Any(f => f.Kind == RedisFault && handedOver >= f.From && resigned < f.To + Ticks(bounds.Backoff));
            if (!meetsAPause && Campaigning(history, faults, resigned, release.Worker, Ticks(bounds.Handover / 2)))
            {
                failovers.Add(new Failover("handover", release.Worker, resigned, took));
            }
        }

        foreach (var fault in faults)
        {
            var worker = fault.Worker.ToString(CultureInfo.InvariantCulture);
            failovers.Add(fault.Kind == RedisFault
                ? new Failover(fault.Kind, "redis", fault.To, Until(history, fault.To, e => e.Kind is "ok" or "write-ok"))
                : new Failover(fault.Kind, worker, fault.From, Until(history, fault.From, e => e.Kind == "ok" && e.Worker != worker)));
        }

        return failovers;
    }

    /// <summary>
    /// An election's failovers against their bounds (see <see cref="Failovers"/>): a handover or a
    /// restart (SIGTERM, a graceful shutdown) within <see cref="FailoverBounds.Handover"/>, a leader
    /// killed or stopped replaced within <see cref="FailoverBounds.LeaderGone"/>, a leader writing
    /// again within <see cref="FailoverBounds.RedisBack"/> after a Redis pause. And a leader stopped
    /// past its lease: once continued, it wrote with its ended term's token (it had not looked yet),
    /// and the fenced store refused every such write.
    /// </summary>
    public static List<string> CheckFailovers(IReadOnlyList<HistoryEvent> history, IReadOnlyList<Fault> faults, FailoverBounds bounds, long until)
    {
        var violations = new List<string>();
        foreach (var failover in Failovers(history, faults, bounds, until))
        {
            var bound = failover.Cause switch
            {
                "handover" or RestartFault => bounds.Handover,
                RedisFault => bounds.RedisBack,
                _ => bounds.LeaderGone,
            };
            if (failover.Took is not { } took || took > bound)
            {
                violations.Add($"failover: after the {failover.Cause} of {failover.Worker} the next leader came {(failover.Took is { } t ? $"after {t.TotalMilliseconds:F0} ms" : "never")}, bound {bound.TotalMilliseconds:F0} ms");
            }
        }

        foreach (var stop in faults.Where(f => f.Kind == StopFault))
        {
            var worker = stop.Worker.ToString(CultureInfo.InvariantCulture);
            var term = history.LastOrDefault(e => e.Kind == "ok" && e.Worker == worker && e.Time < stop.From);
            var afterResume = history
                .Where(e => e.Kind.StartsWith("write-", StringComparison.Ordinal) && e.Worker == worker && e.Token == term?.Token)
                .Where(e => (e.Kind == "write-unknown" ? e.Time : long.Parse(e.Detail, CultureInfo.InvariantCulture)) > stop.To)
                .ToList();
            if (afterResume.Count == 0)
            {
                violations.Add($"stopped leader: worker {worker} (token {term?.Token}) never wrote with its ended term after it was continued");
            }

            violations.AddRange(afterResume.Where(e => e.Kind == "write-ok").Select(e =>
                $"stopped leader: worker {worker}'s write with the ended term's token {e.Token} was accepted after it was continued"));
        }

        return violations;
    }

    /// <summary>
    /// Every worker of an election made progress or was legitimately waiting: it led at least once, or
    /// it was campaigning when the run ended and fewer terms began meanwhile than there are workers
    /// (the line is served in order, so it would have come first by then).
    /// </summary>
    public static List<string> CheckProgress(IReadOnlyList<HistoryEvent> history, long until)
    {
        var violations = new List<string>();
        var workers = history.Where(e => e.Kind == "start").Select(e => e.Worker).Distinct().ToList();
        foreach (var worker in workers)
        {
            var mine = history.Where(e => e.Worker == worker && e.Time < until).ToList();
            if (mine.Any(e => e.Kind == "ok"))
            {
                continue;
            }

            var since = mine.FirstOrDefault(e => e.Kind == "invoke")?.Time;
            var others = since is { } from ? history.Count(e => e.Kind == "ok" && e.Time > from && e.Time < until) : 0;
            if (mine.LastOrDefault()?.Kind != "invoke" || others >= workers.Count)
            {
                violations.Add($"progress: worker {worker} never led ({others} terms began while it campaigned; its last event: {mine.LastOrDefault()?.Kind ?? "none"})");
            }
        }

        return violations;
    }

    private const string StopFault = "stop";
    private const string KillFault = "kill";
    private const string RestartFault = "restart";
    private const string RedisFault = "redis";

    /// <summary>Whether a live worker other than <paramref name="except"/> was campaigning (its last event an "invoke") at <paramref name="time"/>.</summary>
    /// <summary>
    /// Whether a candidate other than <paramref name="except"/> was campaigning at <paramref name="time"/>,
    /// and had been for <paramref name="settled"/> (half a handover's bound): one that asked a moment before may not stand in
    /// the line yet (a worker just started, on a loaded machine), and then the resigning leader may
    /// rightly take the next term itself. A fresh-clone run saw that: a candidate that asked 44 ms
    /// before a resignation, the resigner leading again 10 ms after it and then killed, and the
    /// handover judged by the kill's wait.
    /// </summary>
    private static bool Campaigning(IReadOnlyList<HistoryEvent> history, IReadOnlyList<Fault> faults, long time, string except, long settled)
    {
        var gone = faults.Where(f => f.Kind is KillFault or RestartFault && f.From <= time)
            .Select(f => f.Worker.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        return history.Where(e => e.Time < time && e.Worker != except && !gone.Contains(e.Worker))
            .GroupBy(e => e.Worker)
            .Any(g => g.Last().Kind == "invoke" && g.Last().Time <= time - settled);
    }

    private static TimeSpan? Until(IReadOnlyList<HistoryEvent> history, long from, Func<HistoryEvent, bool> next) =>
        history.FirstOrDefault(e => e.Time > from && next(e)) is { } found ? Stopwatch.GetElapsedTime(from, found.Time) : null;

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static string Ms(long ticks) => $"{ticks * 1000.0 / Stopwatch.Frequency:F1} ms";

    /// <summary>
    /// A fault a test injected into an election: stop (the leader SIGSTOP'd), kill (SIGKILL'd),
    /// restart (SIGTERM'd, a graceful shutdown, and a new worker started), or redis (its server
    /// paused); the worker (the leader; -1 for Redis); when it began and ended (Stopwatch timestamps:
    /// a stopped leader's or Redis's continuation; the same as the start for a kill or a restart).
    /// </summary>
    public sealed record Fault(string Kind, int Worker, long From, long To);

    /// <summary>The longest each kind of failover may take (see <see cref="CheckFailovers"/>).</summary>
    /// <param name="Handover">After a resignation or a graceful shutdown.</param>
    /// <param name="LeaderGone">After the leader was killed or stopped.</param>
    /// <param name="RedisBack">After Redis was continued from a pause, until a leader writes.</param>
    /// <param name="Backoff">How long after a Redis pause a candidate may still be backing off (its last attempt's timeout and its longest pause).</param>
    public sealed record FailoverBounds(TimeSpan Handover, TimeSpan LeaderGone, TimeSpan RedisBack, TimeSpan Backoff);

    /// <summary>One failover: its cause (handover or a fault's kind), whose, when it began, and how long until the next leader (null: none came).</summary>
    public sealed record Failover(string Cause, string Worker, long At, TimeSpan? Took);

    /// <summary>One acquisition; <see cref="Mode"/> is the handle's mode as the worker wrote it ("" in older histories: the lock).</summary>
    public sealed record Hold(string Worker, long Token, long Start, long End)
    {
        public string Mode { get; init; } = "";

        /// <summary>When the worker asked for it.</summary>
        public long Invoked { get; init; }

        /// <summary>Whether the holder did any work under it.</summary>
        public bool Used { get; init; }
    }
}
