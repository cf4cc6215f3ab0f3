using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// The lock's scripts (acquire, release, extend, leave, force-release, inspect) in C#, step for
/// step, for the in-memory node; each method names its script. KEYS and ARGV are the scripts'.
/// </summary>
internal static class LockTwins
{
    public static RedisResult Acquire(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var line = LineTwin.Of(k, keys, argv);
        string lockKey = keys[0]!, id = argv[3]!, queue = argv[5]!;
        var ttl = (long)argv[4];
        var value = k.Get(lockKey);
        if (value is null && (line.First() ?? queue) != queue)
        {
            line.HandOver(1);
            value = k.Get(lockKey);
        }

        if (value == LockKeyLayout.ReservedPrefix + queue || (value is null && (line.First() ?? queue) == queue))
        {
            k.Set(lockKey, id, ttl);
            if (line.Took(queue, argv[6] == "1", ttl) && value is not null)
            {
                line.Announce("c", ttl);
            }

            return ScriptReply.List(1);
        }

        var pttl = k.PTtl(lockKey);
        line.Join(queue, pttl, ttl, line.Listed(queue));
        return ScriptReply.List(0, pttl);
    }

    public static RedisResult Release(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        if (k.Get(keys[0]!) != argv[3])
        {
            return ScriptReply.Integer(0);
        }

        if (LineTwin.Of(k, keys, argv).HandOver(1) == 0)
        {
            k.Del(keys[0]!);
        }

        return ScriptReply.Integer(1);
    }

    public static RedisResult Extend(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv) =>
        ScriptReply.Integer(k.Get(keys[0]!) == argv[0] && k.PExpire(keys[0]!, (long)argv[1]));

    public static RedisResult Leave(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var value = k.Get(keys[0]!);
        var reserved = value == LockKeyLayout.ReservedPrefix + argv[3];
        if (LineTwin.Of(k, keys, argv).Leave(argv[3]!, reserved || value is null ? 1 : 0) == 0 && reserved)
        {
            k.Del(keys[0]!);
        }

        return ScriptReply.Integer(1);
    }

    public static RedisResult ForceRelease(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var deleted = k.Del(keys[0]!);
        k.Del(keys[2]!);
        LineTwin.Of(k, keys, argv).HandOver(1);
        return ScriptReply.Integer(deleted);
    }

    public static RedisResult Inspect(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var value = k.Get(keys[0]!);
        var readers = new List<RedisResult>();
        if (value == LockKeyLayout.ReadersMarker)
        {
            var now = k.Now;
            foreach (var (reader, expires) in k.ZRange(keys[2]!, 0, -1))
            {
                if (expires > now && !reader.StartsWith(LockKeyLayout.ReservedPrefix, StringComparison.Ordinal))
                {
                    readers.Add(ScriptReply.Text(reader));
                    readers.Add(ScriptReply.Integer(ScriptReply.Ms(expires) - now));
                }
            }
        }

        return ScriptReply.List(ScriptReply.Text(value), ScriptReply.Integer(k.PTtl(keys[0]!)), ScriptReply.Text(k.Get(keys[3]!)), ScriptReply.Integer(k.ZCard(keys[1]!)), ScriptReply.List([.. readers]));
    }

    public static RedisResult Fence(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv) =>
        FenceTwins.Issue(k, k.Get(keys[0]!) == argv[0], keys[1]!, argv);
}
