namespace DistLock.Benchmarks;

/// <summary>Percentiles over recorded durations, in milliseconds.</summary>
public static class Stats
{
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var index = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }

    public static double Ms(long fromTimestamp, long toTimestamp) =>
        (toTimestamp - fromTimestamp) * 1000.0 / TimeProvider.System.TimestampFrequency;

    public static long Now() => TimeProvider.System.GetTimestamp();
}
