using System.Globalization;

namespace DistLock;

/// <summary>
/// The one duration syntax of DistLock's tool and configuration: <c>250ms</c>, <c>10s</c>,
/// <c>5m</c>, <c>2h</c>, <c>1d</c>, compounds such as <c>1m30s</c> (units from the largest to the
/// smallest, each at most once), <c>0</c>, <c>inf</c> where waiting forever makes sense, and
/// <c>hh:mm:ss</c> (<c>d.hh:mm:ss.fff</c>) as .NET configuration binds a <see cref="TimeSpan"/>. A bare number other than 0 is refused: .NET reads "30" as 30
/// days, a shell user means 30 seconds, and guessing either way would be wrong for someone.
/// Compiled into the tool and the dependency injection package (src/Shared).
/// </summary>
internal static class DurationText
{
    public const string Examples = "250ms, 10s, 5m, 2h, 1d, 1m30s or 00:00:30";

    /// <summary>The units, largest first: the order a compound must follow.</summary>
    private static readonly string[] Units = ["d", "h", "m", "s", "ms"];

    private static readonly double[] UnitSeconds = [86400, 3600, 60, 1, 0.001];

    /// <summary>Parses <paramref name="text"/>; null and a reason when it is not a duration.</summary>
    public static TimeSpan? TryParse(string? text, bool allowInfinite, out string error)
    {
        error = string.Empty;
        var value = (text ?? string.Empty).Trim().ToLowerInvariant();
        if (value.Length == 0)
        {
            error = $"an empty value is not a duration (try {Examples})";
            return null;
        }

        if (value is "inf" or "infinite" or "forever" or "-1")
        {
            if (allowInfinite)
            {
                return Timeout.InfiniteTimeSpan;
            }

            error = $"'{text}': infinite is not allowed here (try {Examples})";
            return null;
        }

        if (value == "0")
        {
            return TimeSpan.Zero;
        }

        if (value.Contains(':', StringComparison.Ordinal))
        {
            if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var clock) && clock >= TimeSpan.Zero)
            {
                return clock;
            }

            error = $"'{text}' is not a duration (hh:mm:ss, or {Examples})";
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare))
        {
            error = $"'{text}' needs a unit: {bare.ToString(CultureInfo.InvariantCulture)}s, {bare.ToString(CultureInfo.InvariantCulture)}ms... ({Examples})";
            return null;
        }

        var total = 0.0;
        var at = 0;

        // Units go from the largest to the smallest, each at most once: "30s10m" or "1m1m" is a typo
        // more often than a sum, and reading it as one would hide it.
        var previousUnit = -1;
        var ordered = true;
        while (at < value.Length)
        {
            var start = at;
            while (at < value.Length && (char.IsAsciiDigit(value[at]) || value[at] == '.'))
            {
                at++;
            }

            var unitStart = at;
            while (at < value.Length && char.IsAsciiLetter(value[at]))
            {
                at++;
            }

            var unit = Array.IndexOf(Units, value[unitStart..at]);
            var seconds = unit < 0 ? double.NaN : UnitSeconds[unit];
            ordered &= unit > previousUnit;
            previousUnit = unit;
            if (unitStart == start || double.IsNaN(seconds)
                || !double.TryParse(value[start..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                error = $"'{text}' is not a duration (try {Examples})";
                return null;
            }

            total += amount * seconds;
        }

        if (total * TimeSpan.TicksPerSecond >= TimeSpan.MaxValue.Ticks)
        {
            error = $"'{text}' is too long";
            return null;
        }

        if (!ordered)
        {
            var meant = Format(TimeSpan.FromTicks((long)Math.Round(total * TimeSpan.TicksPerSecond)));
            error = $"'{text}' is not a duration: units go from the largest to the smallest (d, h, m, s, ms), each at most once; did you mean {meant}?";
            return null;
        }

        return TimeSpan.FromTicks((long)Math.Round(total * TimeSpan.TicksPerSecond));
    }

    /// <summary>Writes <paramref name="value"/> in the same syntax, e.g. 1m30s, 250ms, inf.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == Timeout.InfiniteTimeSpan)
        {
            return "inf";
        }

        if (value == TimeSpan.Zero)
        {
            return "0";
        }

        if (value < TimeSpan.FromSeconds(1))
        {
            return value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        }

        var parts = new List<string>();
        if (value.Days > 0)
        {
            parts.Add($"{value.Days}d");
        }

        if (value.Hours > 0)
        {
            parts.Add($"{value.Hours}h");
        }

        if (value.Minutes > 0)
        {
            parts.Add($"{value.Minutes}m");
        }

        var seconds = value.Seconds + (value.Milliseconds / 1000.0);
        if (seconds > 0)
        {
            parts.Add(seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s");
        }

        return string.Concat(parts);
    }

    /// <summary>
    /// The shortest TTL that automatic extension can keep: the extension is sent a third of the TTL
    /// after the acquire and may take up to <paramref name="nodeTimeout"/> to be answered, all before
    /// the validity (TTL minus 1% clock drift and 2 ms) runs out. Rounded up to 100 ms.
    /// </summary>
    public static TimeSpan MinimumExtendableTtl(TimeSpan nodeTimeout)
    {
        var seconds = (nodeTimeout.TotalSeconds + 0.002) / (0.99 - (1.0 / 3));
        return TimeSpan.FromMilliseconds(Math.Ceiling(seconds * 10) * 100);
    }
}
