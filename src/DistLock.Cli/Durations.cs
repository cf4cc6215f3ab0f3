namespace DistLock.Cli;

/// <summary>Reads duration flags in DistLock's one duration syntax (src/Shared/DurationText.cs).</summary>
internal static class Durations
{
    /// <summary>The shortest NodeTimeout the tool lets a short TTL squeeze it to: a Redis round trip under load.</summary>
    public static readonly TimeSpan ShortestNodeTimeout = TimeSpan.FromMilliseconds(100);

    public static TimeSpan Parse(string text, string option, bool allowInfinite = true) =>
        DurationText.TryParse(text, allowInfinite, out var error) ?? throw new CliException(ExitCodes.Usage, $"{option}: {error}");

    /// <summary>
    /// Lock options for a TTL the tool extends while a command runs. The extension is sent a third of
    /// the TTL after the acquire and must be answered before the lock's validity ends, so NodeTimeout
    /// is shortened to fit (at most the default 1 s, at least 100 ms); a TTL too short even for that
    /// is refused with the lowest that works.
    /// </summary>
    public static void ApplyTtl(RedisLockManagerOptions options, TimeSpan ttl, string option)
    {
        var lowest = DurationText.MinimumExtendableTtl(ShortestNodeTimeout);
        if (ttl < lowest)
        {
            throw new CliException(ExitCodes.Usage, $"{option}: {DurationText.Format(ttl)} is too short to be extended in time; the lowest that works is {DurationText.Format(lowest)}");
        }

        if (ttl > AcquireOptions.MaxTtl)
        {
            throw new CliException(ExitCodes.Usage, $"{option}: {DurationText.Format(ttl)} is longer than a lock's TTL can be ({DurationText.Format(AcquireOptions.MaxTtl)}); the lock is extended while the command runs, so a short one will do");
        }

        try
        {
            // The acquisition settings alone: their messages name "Ttl", not "Defaults.Ttl".
            options.Defaults.Ttl = ttl;
            options.Defaults.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{option}: {ErrorText.Clean(ex.Message)}", ex);
        }

        var fits = (ttl * (0.99 - (1.0 / 3))) - TimeSpan.FromMilliseconds(2);
        options.NodeTimeout = fits < options.NodeTimeout ? (fits < ShortestNodeTimeout ? ShortestNodeTimeout : fits) : options.NodeTimeout;
    }
}
