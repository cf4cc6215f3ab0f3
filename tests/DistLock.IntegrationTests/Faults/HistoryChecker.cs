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
/// </summary>
public static class HistoryChecker
{
    public static List<HistoryEvent> Read(IEnumerable<string> files) =>
        files.SelectMany(File.ReadAllLines).Where(line => line.Length > 0).Select(HistoryEvent.Parse).OrderBy(e => e.Time).ToList();

    public static List<string> Check(IReadOnlyList<HistoryEvent> history, bool inModel)
    {
        var violations = new List<string>();
        var holds = Holds(history);
        if (inModel)
        {
            CheckOverlaps(holds, violations);
        }

        CheckTokens(holds, violations);
        CheckFencedWrites(history, violations);
        return violations;
    }

    /// <summary>The acquisitions: who, with which token, from when to the last use that saw the lock held.</summary>
    public static List<Hold> Holds(IReadOnlyList<HistoryEvent> history)
    {
        // A worker's token is unique to one acquisition, so (worker, token) names it.
        var lastUse = new Dictionary<(string, long), long>();
        foreach (var use in history.Where(e => e.Kind == "use"))
        {
            lastUse[(use.Worker, use.Token)] = Math.Max(use.Time, lastUse.GetValueOrDefault((use.Worker, use.Token)));
        }

        return history
            .Where(e => e.Kind == "ok")
            .Select(ok => new Hold(ok.Worker, ok.Token, ok.Time, Math.Max(ok.Time, lastUse.GetValueOrDefault((ok.Worker, ok.Token)))))
            .ToList();
    }

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

    private static string Ms(long ticks) => $"{ticks * 1000.0 / Stopwatch.Frequency:F1} ms";

    public sealed record Hold(string Worker, long Token, long Start, long End);
}
