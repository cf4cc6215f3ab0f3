using System.Globalization;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>next-fence.lua (next_fence, raise_fence) in C#, for the in-memory node (a server of Redis 7).</summary>
internal static class FenceTwins
{
    public static long Next(MemoryKeyspace k, string counter, long idle, long resolution)
    {
        var now = k.NowMicroseconds;
        now -= now % resolution;
        if (resolution > 1)
        {
            var token = k.Incr(counter);
            if (now > token)
            {
                k.Set(counter, Text(now), idle);
                token = now;
            }

            return token;
        }

        var last = k.Get(counter) is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : (long?)null;
        k.Set(counter, Text(now), idle);
        if (last is not { } previous || previous < now)
        {
            return now;
        }

        var next = Math.Max(previous + 1, now);
        k.Set(counter, Text(next), idle);
        return next;
    }

    public static long Raise(MemoryKeyspace k, string counter, long floor, long idle)
    {
        if ((k.Get(counter) is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : 0) < floor)
        {
            k.Set(counter, Text(floor), idle);
        }

        return floor;
    }

    /// <summary>The end of every fence script: 0 when the caller does not hold, else a token raised to ARGV[4], or the next one.</summary>
    public static RedisResult Issue(MemoryKeyspace k, bool holds, string counter, RedisValue[] argv) =>
        ScriptReply.Integer(!holds ? 0 : (long)argv[3] > 0 ? Raise(k, counter, (long)argv[3], (long)argv[1]) : Next(k, counter, (long)argv[1], (long)argv[2]));

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
