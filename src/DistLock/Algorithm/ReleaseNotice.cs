using System.Globalization;

namespace DistLock.Algorithm;

/// <summary>
/// What a wake carries: the same for every node of one release, different for every release, so
/// a waiter counts each release once however many nodes announce it.
/// </summary>
internal static class ReleaseNotice
{
    private static long s_count;

    public static string New(string owner) =>
        string.Create(CultureInfo.InvariantCulture, $"{owner}/{Interlocked.Increment(ref s_count)}");
}
