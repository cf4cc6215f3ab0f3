using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>The read lock's scripts (acquire-read, release-read, extend-read, fence-read) in C#, step for step, for the in-memory node.</summary>
internal static class ReadTwins
{
    public static RedisResult Acquire(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        var line = LineTwin.Of(k, keys, argv);
        string lockKey = keys[0]!, lineKey = keys[1]!, readers = keys[2]!, id = argv[3]!, queue = argv[5]!;
        var ttl = (long)argv[4];
        var now = k.Now;
        k.ZRemUpTo(readers, now);
        var value = k.Get(lockKey);

        bool WriterAhead()
        {
            var place = queue.Length > 0 ? k.ZScore(lineKey, queue) : null;
            var ahead = k.ZRange(lineKey, 0, -1).Where(e => place is null || e.Score < place).Take(64).ToList();
            var probes = 0;
            foreach (var (waiter, _) in ahead)
            {
                if (!IsReader(waiter))
                {
                    if (++probes > 8 || line.Wake(waiter, Algorithm.ReleaseNotice.ProbePrefix))
                    {
                        return true;
                    }

                    k.ZRem(lineKey, waiter);
                }
            }

            return ahead.Count == 64;
        }

        var letIn = queue.Length > 0 && (value == LockKeyLayout.ReservedPrefix + queue
            || (value == LockKeyLayout.ReadersMarker && (k.ZScore(keys[3]!, queue) ?? 0) > now));
        var holding = value == LockKeyLayout.ReadersMarker && k.ZScore(readers, id) is not null;
        if (holding || (!letIn && ((value is not null && value != LockKeyLayout.ReadersMarker) || WriterAhead())))
        {
            if (value is null)
            {
                line.HandOver(1);
            }

            var pttl = k.PTtl(lockKey);
            if (queue.Length > 0)
            {
                line.Join(queue, pttl, ttl, line.Listed(queue));
            }

            return ScriptReply.List(0, pttl);
        }

        if (value != LockKeyLayout.ReadersMarker)
        {
            k.Del(readers);
        }

        k.ZAdd(readers, now + ttl, id);
        var longest = ScriptReply.Ms(k.ZRange(readers, -1, -1)[0].Score) - now;
        k.Set(lockKey, LockKeyLayout.ReadersMarker, longest);
        k.PExpire(readers, longest);

        var admitted = new List<string>();
        if (queue.Length > 0)
        {
            if (line.Listed(queue))
            {
                k.ZRem(lineKey, queue);
            }
            else if (value == LockKeyLayout.ReservedPrefix + queue)
            {
                line.Announce("c", ttl);
            }

            if (argv[6] == "1")
            {
                admitted.Add(queue);
            }
        }

        for (var step = 0; step < 1000 && line.First() is { } head && IsReader(head); step++)
        {
            k.ZRem(lineKey, head);
            if (line.Wake(head, argv[2]!))
            {
                admitted.Add(head);
            }
        }

        foreach (var waiter in admitted)
        {
            k.ZAdd(keys[3]!, now + line.Grace, waiter);
        }

        if (admitted.Count > 0)
        {
            k.PExpire(keys[3]!, line.Grace);
        }

        return ScriptReply.List(1);
    }

    public static RedisResult Release(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        string lockKey = keys[0]!, readers = keys[2]!, id = argv[3]!;
        var now = k.Now;
        if (k.Get(lockKey) != LockKeyLayout.ReadersMarker || k.ZScore(readers, id) is not { } expires)
        {
            return ScriptReply.Integer(0);
        }

        k.ZRem(readers, id);
        k.ZRemUpTo(readers, now);
        if (k.ZRange(readers, -1, -1) is [var longest])
        {
            k.PExpire(lockKey, Math.Max(1, ScriptReply.Ms(longest.Score) - now));
        }
        else
        {
            if (LineTwin.Of(k, keys, argv).HandOver(1) == 0)
            {
                k.Del(lockKey);
            }

            k.Del(readers);
        }

        return ScriptReply.Integer(expires > now);
    }

    public static RedisResult Extend(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv)
    {
        string lockKey = keys[0]!, readers = keys[1]!, id = argv[0]!;
        var now = k.Now;
        if (k.Get(lockKey) != LockKeyLayout.ReadersMarker || k.ZScore(readers, id) is not { } expires || expires <= now)
        {
            return ScriptReply.Integer(0);
        }

        var ttl = (long)argv[1];
        k.ZAdd(readers, now + ttl, id);
        if (k.PTtl(lockKey) < ttl)
        {
            k.PExpire(lockKey, ttl);
            k.PExpire(readers, ttl);
        }

        return ScriptReply.Integer(1);
    }

    public static RedisResult Fence(MemoryKeyspace k, RedisKey[] keys, RedisValue[] argv) =>
        FenceTwins.Issue(k, k.Get(keys[0]!) == LockKeyLayout.ReadersMarker && k.ZScore(keys[1]!, argv[0]!) is { } expires && expires > k.Now, keys[2]!, argv);

    private static bool IsReader(string waiter) => waiter.StartsWith(LockKeyLayout.ReaderPrefix, StringComparison.Ordinal);
}
