using System.Diagnostics;
using System.Globalization;

namespace DistLock.IntegrationTests.Faults;

/// <summary>
/// Judges the history of workers that take sets of locks together (DistLock.FaultWorker's
/// <c>--kind multi</c>). Each member of a set is the ordinary exclusive lock of its name, so the
/// history is cut into one history per member (the acquisitions whose set contains it, their steps
/// of work, and the writes to its fenced key) and each is judged as a plain lock's by
/// <see cref="HistoryChecker.Check"/>: no two holds of a member overlap, its tokens are unique and
/// rise in the order of its acquisitions, no stale write to it was accepted. Beside that:
/// <list type="bullet">
/// <item>the accepted writes of two holds never interleave on a member (one hold's writes before
/// and after another's), which the fenced store shows even where hold intervals cannot be judged;</item>
/// <item>every handle lists exactly the set its worker asked for;</item>
/// <item>every live worker keeps acquiring (<see cref="CheckProgress"/>): no deadlock, no waiter stuck.</item>
/// </list>
/// A hold that a SIGSTOP carried past its lease is out of the model: it counts on its members at its
/// acquisition only, and its writes are left to the fenced store.
/// </summary>
public static class MultiResourceChecker
{
    /// <param name="history">The merged history.</param>
    /// <param name="faults">What the test did: a worker stopped (a kind starting with "stop") takes its hold of the moment out of the model.</param>
    public static List<string> Check(IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryChecker.Fault> faults)
    {
        var violations = new List<string>();
        foreach (var (member, events) in ByMember(history, CarriedPastAStop(history, faults)).OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            violations.AddRange(HistoryChecker.Check(events, inModel: true).Select(v => $"member {member}: {v}"));
            violations.AddRange(Interleavings(events).Select(v => $"member {member}: {v}"));
        }

        violations.AddRange(CheckMembers(history));
        return violations;
    }

    /// <summary>
    /// Every live worker acquired at least once in every stretch of <paramref name="bound"/>: from
    /// its start (or <paramref name="from"/>, if later) to its first acquisition, between two, and
    /// from its last to its end (killed or shut down by the test, or <paramref name="until"/>), less
    /// the time it was stopped.
    /// </summary>
    /// <param name="history">The merged history.</param>
    /// <param name="faults">What the test did: a worker killed or shut down ("kill", "restart") ends there; the time one was stopped does not count.</param>
    /// <param name="bound">The longest stretch without an acquisition.</param>
    /// <param name="from">When the judged run began: the first workers start together, which on a loaded machine takes seconds.</param>
    /// <param name="until">When the test began to end the run.</param>
    public static List<string> CheckProgress(IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryChecker.Fault> faults, TimeSpan bound, long from, long until)
    {
        var began = history.Count > 0 ? history[0].Time : 0;
        return [.. Gaps(history, faults, from, until).Where(g => g.Length > bound).Select(g =>
            $"progress: worker {g.Worker} went {g.Length.TotalMilliseconds:F0} ms without an acquisition " +
            $"(from {Stopwatch.GetElapsedTime(began, g.From).TotalMilliseconds:F0} ms to {Stopwatch.GetElapsedTime(began, g.To).TotalMilliseconds:F0} ms into the run), bound {bound.TotalMilliseconds:F0} ms")];
    }

    /// <summary>Each worker's stretches without an acquisition (see <see cref="CheckProgress"/>), with the time it was stopped taken out.</summary>
    public static List<Gap> Gaps(IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryChecker.Fault> faults, long from, long until)
    {
        var gaps = new List<Gap>();
        foreach (var start in history.Where(e => e.Kind == "start"))
        {
            var mine = faults.Where(f => f.Worker.ToString(CultureInfo.InvariantCulture) == start.Worker).ToList();
            var end = mine.Where(f => f.Kind is "kill" or "restart").Select(f => f.From).Append(until).Min();
            var first = Math.Max(start.Time, from);
            var marks = history.Where(e => e.Worker == start.Worker && e.Kind == "ok" && e.Time > first && e.Time < end)
                .Select(e => e.Time).Prepend(first).Append(end).ToList();
            for (var i = 1; i < marks.Count; i++)
            {
                var stopped = mine.Where(f => f.Kind.StartsWith("stop", StringComparison.Ordinal))
                    .Sum(f => Math.Max(0, Math.Min(f.To, marks[i]) - Math.Max(f.From, marks[i - 1])));
                gaps.Add(new Gap(start.Worker, marks[i - 1], marks[i], Stopwatch.GetElapsedTime(0, marks[i] - marks[i - 1] - stopped)));
            }
        }

        return gaps;
    }

    /// <summary>
    /// One member's history as a plain lock's: its acquisitions (with the "" mode of a lock) and their
    /// steps, and its writes with the detail the lock worker writes (the time the write was invoked).
    /// </summary>
    public static Dictionary<string, List<HistoryEvent>> ByMember(IReadOnlyList<HistoryEvent> history, IReadOnlySet<(string, long)> outOfModel)
    {
        var byMember = new Dictionary<string, List<HistoryEvent>>(StringComparer.Ordinal);
        var sets = new Dictionary<(string, long), string[]>();
        foreach (var e in history)
        {
            switch (e.Kind)
            {
                case "invoke":
                    Add(Members(e.Detail), e with { Detail = "" });
                    break;
                case "ok":
                    sets[(e.Worker, e.Token)] = Members(e.Detail);
                    Add(sets[(e.Worker, e.Token)], e with { Detail = "" });
                    break;
                case "use" when !outOfModel.Contains((e.Worker, e.Token)):
                    Add(sets.GetValueOrDefault((e.Worker, e.Token), []), e);
                    break;
                case "write-ok" or "write-rejected":
                    var at = e.Detail.IndexOf('@', StringComparison.Ordinal);
                    Add([e.Detail[..at]], e with { Detail = e.Detail[(at + 1)..] });
                    break;
            }
        }

        return byMember;

        void Add(string[] members, HistoryEvent e)
        {
            foreach (var member in members)
            {
                if (!byMember.TryGetValue(member, out var events))
                {
                    byMember[member] = events = [];
                }

                events.Add(e);
            }
        }
    }

    /// <summary>The holds (worker, token) that held when their worker was stopped: acquired before the stop, not yet releasing.</summary>
    private static HashSet<(string, long)> CarriedPastAStop(IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryChecker.Fault> faults)
    {
        var carried = new HashSet<(string, long)>();
        foreach (var stop in faults.Where(f => f.Kind.StartsWith("stop", StringComparison.Ordinal)))
        {
            var worker = stop.Worker.ToString(CultureInfo.InvariantCulture);
            var last = history.LastOrDefault(e => e.Worker == worker && e.Kind is "ok" or "release-invoke" && e.Time < stop.From);
            if (last is { Kind: "ok" })
            {
                carried.Add((worker, last.Token));
            }
        }

        return carried;
    }

    /// <summary>
    /// One member's accepted writes, per hold: a hold with a write that returned before another
    /// hold's write was invoked, and one invoked after that write returned, held the member around it.
    /// </summary>
    private static IEnumerable<string> Interleavings(List<HistoryEvent> events)
    {
        var writes = events.Where(e => e.Kind == "write-ok")
            .Select(e => (Hold: (e.Worker, e.Token), Invoked: long.Parse(e.Detail, CultureInfo.InvariantCulture), Returned: e.Time))
            .ToList();
        foreach (var hold in writes.GroupBy(w => w.Hold))
        {
            var firstReturned = hold.Min(w => w.Returned);
            var lastInvoked = hold.Max(w => w.Invoked);
            var between = writes.Where(w => w.Hold != hold.Key && w.Invoked > firstReturned && w.Returned < lastInvoked)
                .Select(w => w.Hold).Distinct();
            foreach (var other in between)
            {
                yield return $"interleaved: worker {hold.Key.Worker} (token {hold.Key.Token}) wrote before and after worker {other.Worker}'s write with token {other.Token}";
            }
        }
    }

    /// <summary>Every handle's members are the set its worker asked for (its last "invoke" before the answer).</summary>
    private static IEnumerable<string> CheckMembers(IReadOnlyList<HistoryEvent> history)
    {
        var asked = new Dictionary<string, string>();
        foreach (var e in history)
        {
            if (e.Kind == "invoke")
            {
                asked[e.Worker] = e.Detail;
            }
            else if (e.Kind == "ok" && !Members(e.Detail).ToHashSet().SetEquals(Members(asked.GetValueOrDefault(e.Worker, ""))))
            {
                yield return $"members: worker {e.Worker} asked for {asked.GetValueOrDefault(e.Worker, "nothing")} and got a handle of {e.Detail} (token {e.Token})";
            }
        }
    }

    private static string[] Members(string detail) => detail.Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A stretch in which <see cref="Worker"/> acquired nothing; <see cref="Length"/> leaves out the time it was stopped.</summary>
    public sealed record Gap(string Worker, long From, long To, TimeSpan Length);
}
