using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// line.lua in C#, for the in-memory node: the same steps, in the same order, on a
/// <see cref="MemoryKeyspace"/> (the conformance tests compare the two). Made per script run from
/// its KEYS and ARGV, as the script's locals are.
/// </summary>
internal readonly struct LineTwin(MemoryKeyspace keyspace, string key, string line, long grace, string notice)
{
    public static LineTwin Of(MemoryKeyspace keyspace, RedisKey[] keys, RedisValue[] argv) =>
        new(keyspace, keys[0]!, keys[1]!, (long)argv[0], argv[2]!);

    public long Grace => grace;

    public string? First() => keyspace.ZRange(line, 0, 0) is [var head] ? head.Member : null;

    public bool Listed(string id) => keyspace.ZScore(line, id) is not null;

    public void Join(string id, long pttl, long ttl, bool listed)
    {
        if (!listed)
        {
            var last = keyspace.ZRange(line, -1, -1);
            keyspace.ZAdd(line, last.Count > 0 ? Math.Floor(last[0].Score) + 1 : 1, id);
        }

        keyspace.PExpire(line, Math.Max(pttl, ttl) + 60000);
    }

    public void Announce(string kind, long ms) => keyspace.Publish(key + ":handoff", kind + ":" + ms);

    public bool Wake(string id, string message) => keyspace.Publish(key + ":wake:" + id, message) > 0;

    /// <summary>The default reservation: the hold's key names the woken queue for the grace.</summary>
    public void ReserveKey(string id, long ms) => keyspace.Set(key, LockKeyLayout.ReservedPrefix + id, ms);

    public int HandOver(int free, Action<string, long>? reserve = null)
    {
        reserve ??= ReserveKey;
        int given = 0, steps = 0;
        var behind = false;
        while (given < free && steps < 1000)
        {
            steps++;
            var head = keyspace.ZRange(line, 0, 1);
            if (head.Count == 0)
            {
                break;
            }

            var alive = Wake(head[0].Member, notice);
            behind = head.Count > 1;
            if (behind || !alive)
            {
                keyspace.ZRem(line, head[0].Member);
            }

            if (alive)
            {
                reserve(head[0].Member, grace);
                given++;
            }
        }

        if (given > 0 && behind)
        {
            Announce("h", grace);
        }
        else if (steps == 1000 && given < free)
        {
            Announce("h", 0);
        }

        return given;
    }

    public bool Took(string id, bool stay, long ttl)
    {
        var listed = Listed(id);
        if (stay)
        {
            Join(id, 0, ttl, listed);
        }
        else if (listed)
        {
            keyspace.ZRem(line, id);
        }

        return !listed;
    }

    public int Leave(string id, int free, Action<string, long>? reserve = null)
    {
        var wasFirst = First() == id;
        keyspace.ZRem(line, id);
        if (free > 0)
        {
            return HandOver(free, reserve);
        }

        while (wasFirst && First() is { } head && !Wake(head, notice))
        {
            keyspace.ZRem(line, head);
        }

        return 0;
    }
}
