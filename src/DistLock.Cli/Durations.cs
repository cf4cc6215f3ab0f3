using System.Globalization;

namespace DistLock.Cli;

/// <summary>Parses durations as people type them: 500ms, 10s, 2m, 1h, a bare number of seconds, or inf.</summary>
internal static class Durations
{
    public static TimeSpan Parse(string text, string option)
    {
        var value = text.Trim().ToLowerInvariant();
        if (value is "inf" or "infinite" or "forever")
        {
            return Timeout.InfiniteTimeSpan;
        }

        (string number, double scale) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.Ordinal) => (value[..^2], 0.001),
            _ when value.EndsWith('s') => (value[..^1], 1),
            _ when value.EndsWith('m') => (value[..^1], 60),
            _ when value.EndsWith('h') => (value[..^1], 3600),
            _ => (value, 1),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0 || double.IsInfinity(amount))
        {
            throw new CliException(ExitCodes.Usage, $"{option}: '{text}' is not a duration (try 500ms, 10s, 2m, 1h or inf)");
        }

        return TimeSpan.FromSeconds(amount * scale);
    }
}
