using System.Globalization;

namespace DistLock.Algorithm;

/// <summary>
/// What travels to waiters. A wake carries a notice: the same for every node of one release,
/// different for every release, so a queue counts each release once however many nodes announce it.
/// A probe (a notice that starts with <see cref="ProbePrefix"/>) only counts a channel's listeners and
/// wakes nobody. The line's news, heard by everyone in line, says a turn was handed over
/// (<c>h:ms</c>: look again after that long unless woken first) or taken (<c>c:ms:queue</c>: held that
/// long, by that queue).
/// </summary>
internal static class ReleaseNotice
{
    /// <summary>What a probe starts with (PROBE_PREFIX in the scripts): a waiter ignores it.</summary>
    public const string ProbePrefix = "probe:";

    private static long s_count;

    public static bool IsProbe(string? notice) => notice is not null && notice.StartsWith(ProbePrefix, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="notice"/> announces a release by <paramref name="owner"/>.</summary>
    public static bool IsFrom(string notice, string owner) =>
        notice.LastIndexOf('/') is var at && at == owner.Length && notice.AsSpan(0, at).SequenceEqual(owner);

    public static string New(string owner) =>
        string.Create(CultureInfo.InvariantCulture, $"{owner}/{Interlocked.Increment(ref s_count)}");

    /// <summary>
    /// Reads the line's news: whether the turn was taken, after how long to look again (or how long
    /// it is held), and by which queue (<paramref name="by"/>, for a take; empty when not named).
    /// </summary>
    public static bool ReadNews(string news, out bool taken, out TimeSpan after, out ReadOnlySpan<char> by)
    {
        taken = news.StartsWith("c:", StringComparison.Ordinal);
        after = TimeSpan.Zero;
        by = default;
        if (!taken && !news.StartsWith("h:", StringComparison.Ordinal))
        {
            return false;
        }

        var ms = news.AsSpan(2);
        if (ms.IndexOf(':') is var colon and >= 0)
        {
            by = ms[(colon + 1)..];
            ms = ms[..colon];
        }

        if (!long.TryParse(ms, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
        {
            return false;
        }

        after = TimeSpan.FromMilliseconds(Math.Max(0, parsed));
        return true;
    }
}
