using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>The semaphore's scripts (permits.lua and those that include it) in C#, step for step, for the in-memory node.</summary>
internal static class SemaphoreTwins
{
    public static RedisResult Acquire(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var (permits, line) = (Permits.Of(k, keys), LineTwin.Of(k, keys, argv));
        string holders = keys[0]!, lineKey = keys[1]!, limitKey = keys[2]!, id = argv[3]!, queue = argv[5]!;
        var (ttl, max) = ((long)argv[4], (long)argv[6]);
        var count = k.ZCard(holders);
        if (count > 0 && k.Get(limitKey) is { } limit && long.Parse(limit, System.Globalization.CultureInfo.InvariantCulture) != max)
        {
            return ScriptReply.List(-1, long.Parse(limit, System.Globalization.CultureInfo.InvariantCulture));
        }

        RedisResult Take()
        {
            k.ZAdd(holders, permits.Now + ttl, id);
            k.Set(limitKey, max.ToString(System.Globalization.CultureInfo.InvariantCulture));
            permits.Settle();
            if (queue.Length > 0)
            {
                k.ZRem(lineKey, queue);
            }

            return ScriptReply.List(1);
        }

        if (k.ZScore(holders, id) is null)
        {
            if (queue.Length > 0 && k.ZRem(holders, LockKeyLayout.ReservedPrefix + queue))
            {
                return Take();
            }

            if (count < max)
            {
                if (queue.Length == 0 || (line.First() ?? queue) == queue)
                {
                    return Take();
                }

                line.HandOver((int)(max - count), permits.Reserve);
                if (k.ZRem(holders, LockKeyLayout.ReservedPrefix + queue))
                {
                    return Take();
                }
            }
        }

        var soonest = k.ZRange(holders, 0, 0);
        if (queue.Length > 0)
        {
            var latest = k.ZRange(holders, -1, -1);
            line.Join(queue, latest.Count > 0 ? ScriptReply.Ms(latest[0].Score) - permits.Now : 0, ttl, line.Listed(queue));
        }

        return ScriptReply.List(0, soonest.Count > 0 ? ScriptReply.Ms(soonest[0].Score) - permits.Now : -1);
    }

    public static RedisResult Release(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var permits = Permits.Of(k, keys);
        if (!k.ZRem(keys[0]!, argv[3]!))
        {
            return ScriptReply.Integer(0);
        }

        LineTwin.Of(k, keys, argv).HandOver(1, permits.Reserve);
        permits.Settle();
        return ScriptReply.Integer(1);
    }

    public static RedisResult Leave(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var permits = Permits.Of(k, keys);
        string holders = keys[0]!, queue = argv[3]!;
        k.ZRem(holders, LockKeyLayout.ReservedPrefix + queue);
        var limit = k.Get(keys[2]!) is { } text ? long.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : k.ZCard(holders) + 1;
        LineTwin.Of(k, keys, argv).Leave(queue, (int)Math.Max(limit - k.ZCard(holders), 0), permits.Reserve);
        permits.Settle();
        return ScriptReply.Integer(1);
    }

    public static RedisResult ForceRelease(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var permits = Permits.Of(k, keys);
        string holders = keys[0]!, holder = argv[3]!;
        var freed = 0;
        if (holder.Length > 0)
        {
            freed = k.ZRem(holders, holder) ? 1 : 0;
        }
        else
        {
            foreach (var (member, _) in k.ZRange(holders, 0, -1))
            {
                if (!member.StartsWith(LockKeyLayout.ReservedPrefix, StringComparison.Ordinal) && k.ZRem(holders, member))
                {
                    freed++;
                }
            }
        }

        LineTwin.Of(k, keys, argv).HandOver(freed, permits.Reserve);
        permits.Settle();
        return ScriptReply.Integer(freed);
    }

    public static RedisResult Extend(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var permits = Permits.Of(k, keys);
        if (k.ZScore(keys[0]!, argv[0]!) is null)
        {
            return ScriptReply.Integer(0);
        }

        k.ZAdd(keys[0]!, permits.Now + (long)argv[1], argv[0]!);
        permits.Settle();
        return ScriptReply.Integer(1);
    }

    public static RedisResult Inspect(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var now = k.Now;
        var live = k.ZRange(keys[0]!, 0, -1).Where(e => e.Score > now)
            .SelectMany(e => new[] { ScriptReply.Text(e.Member), ScriptReply.Integer(ScriptReply.Ms(e.Score) - now) }).ToArray();
        return ScriptReply.List(ScriptReply.Text(k.Get(keys[2]!)), ScriptReply.List(live), ScriptReply.Integer(k.ZCard(keys[1]!)), ScriptReply.Text(k.Get(keys[3]!)));
    }

    public static RedisResult Fence(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv) =>
        FenceTwins.Issue(k, k.ZScore(keys[0]!, argv[0]!) is { } expires && expires > k.Now, keys[1]!, argv);

    /// <summary>permits.lua: the clock read once, expired entries dropped, and settle() and reserve_permit().</summary>
    private readonly struct Permits(MemoryKeyspace k, string holders, string limit, long now)
    {
        public long Now => now;

        public static Permits Of(MemoryKeyspace k, RedisKey[] keys)
        {
            var permits = new Permits(k, keys[0]!, keys[2]!, k.Now);
            k.ZRemUpTo(keys[0]!, permits.Now);
            return permits;
        }

        public void Settle()
        {
            if (k.ZRange(holders, -1, -1) is not [var last])
            {
                k.Del(limit);
                return;
            }

            var keep = ScriptReply.Ms(last.Score) - now + 1000;
            k.PExpire(holders, keep);
            k.PExpire(limit, keep);
        }

        public void Reserve(string id, long grace) => k.ZAdd(holders, now + grace, LockKeyLayout.ReservedPrefix + id);
    }
}
