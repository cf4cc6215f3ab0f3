using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// Who is inside, kept in Redis apart from the locks, shared by both versions' holders: a writer
/// that finds anyone else inside, a reader that finds a writer, or a third permit holder, is counted
/// in <c>{resource}:violations</c>. The same file is compiled into the test and into the rc.1 worker.
/// </summary>
internal static class RollingUpgradeTally
{
    public static async Task EnterAsync(IDatabase db, string resource, string mode)
    {
        var writers = (RedisKey)$"{resource}:writers";
        var readers = (RedisKey)$"{resource}:readers";
        var permits = (RedisKey)$"{resource}:permits";
        var bad = mode switch
        {
            "read" => await db.StringIncrementAsync(readers) > 0 && (long)await db.StringGetAsync(writers) > 0,
            "permit" => await db.StringIncrementAsync(permits) > 2,
            _ => await db.StringIncrementAsync(writers) > 1 || (long)await db.StringGetAsync(readers) > 0,
        };
        if (bad)
        {
            await db.StringIncrementAsync($"{resource}:violations");
        }
    }

    public static Task LeaveAsync(IDatabase db, string resource, string mode) =>
        db.StringDecrementAsync(mode switch { "read" => $"{resource}:readers", "permit" => $"{resource}:permits", _ => $"{resource}:writers" });
}
