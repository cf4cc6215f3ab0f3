using System.Globalization;

namespace DistLock.IntegrationTests.Faults;

/// <summary>One line of a worker's history: a monotonic time (Stopwatch ticks), the worker, what happened, and the fencing token.</summary>
public sealed record HistoryEvent(long Time, string Worker, string Kind, long Token, string Detail)
{
    public static HistoryEvent Parse(string line)
    {
        var parts = line.Split('\t');
        return new HistoryEvent(
            long.Parse(parts[0], CultureInfo.InvariantCulture),
            parts[1],
            parts[2],
            long.Parse(parts[3], CultureInfo.InvariantCulture),
            parts.Length > 4 ? parts[4] : "");
    }
}
