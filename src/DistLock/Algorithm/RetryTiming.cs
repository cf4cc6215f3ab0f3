namespace DistLock.Algorithm;

/// <summary>When to try again after a failed attempt.</summary>
internal static class RetryTiming
{
    /// <summary>
    /// A pause drawn at random between half of <paramref name="retryDelay"/> and all of it, so that
    /// clients that failed together do not retry together (Redlock's advice against split votes);
    /// never longer than <paramref name="remaining"/>, the time left before the caller's deadline.
    /// </summary>
    public static TimeSpan NextDelay(TimeSpan retryDelay, TimeSpan? remaining, Random random)
    {
        var half = retryDelay.Ticks / 2;
        var delay = TimeSpan.FromTicks(half + (long)(random.NextDouble() * (retryDelay.Ticks - half)));
        if (remaining is { } left && left < delay)
        {
            delay = left;
        }

        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }
}
