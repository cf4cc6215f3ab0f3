namespace DistLock.Transport;

/// <summary>
/// The rule that makes <c>maxCount</c> part of a semaphore's identity: while it has live holders
/// (or permits reserved for woken waiters), every caller must pass the maxCount they took it with;
/// when none is left, the next caller's maxCount becomes the limit.
/// </summary>
internal static class SemaphoreLimit
{
    /// <summary>The error for a caller whose <paramref name="asked"/> disagrees with the live holders' <paramref name="current"/>.</summary>
    public static ArgumentException Mismatch(string key, int asked, long current) =>
        new(
            $"The semaphore '{key}' is held with maxCount {current}, and this call asked for maxCount {asked}. Every " +
            "caller of one semaphore must pass the same maxCount; a new maxCount takes effect once no holder is left.",
            "maxCount");
}
