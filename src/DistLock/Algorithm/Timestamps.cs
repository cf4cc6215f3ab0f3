namespace DistLock.Algorithm;

/// <summary>Converts durations to <see cref="TimeProvider"/> timestamp units, for deadlines kept as timestamps.</summary>
internal static class Timestamps
{
    /// <summary>How many of <paramref name="time"/>'s timestamp ticks make <paramref name="span"/>.</summary>
    public static long Ticks(this TimeProvider time, TimeSpan span) =>
        (long)(span.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
}
