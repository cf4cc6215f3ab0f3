using System.Globalization;

namespace DistLock.Algorithm;

/// <summary>
/// What a wake carries: the same for every node of one release, different for every release, so
/// a waiter counts each release once however many nodes announce it. A standby notice (the same
/// with a prefix, sent by wake-next.lua) goes to the waiter behind the one woken: the lock is
/// reserved for another, and free again after the grace if that one does not claim it. A probe
/// (sent by acquire-read.lua) only counts the listeners of a writer's channel: it wakes nobody.
/// </summary>
internal static class ReleaseNotice
{
    /// <summary>What a standby notice starts with (STANDBY_PREFIX in the scripts).</summary>
    public const string StandbyPrefix = "standby:";

    /// <summary>What a probe starts with (PROBE_PREFIX in the scripts): a waiter ignores it.</summary>
    public const string ProbePrefix = "probe:";

    private static long s_count;

    public static string Standby(string notice) => StandbyPrefix + notice;

    public static bool IsStandby(string? notice) => notice is not null && notice.StartsWith(StandbyPrefix, StringComparison.Ordinal);

    public static bool IsProbe(string? notice) => notice is not null && notice.StartsWith(ProbePrefix, StringComparison.Ordinal);

    public static string New(string owner) =>
        string.Create(CultureInfo.InvariantCulture, $"{owner}/{Interlocked.Increment(ref s_count)}");
}
