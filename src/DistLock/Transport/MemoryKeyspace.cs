namespace DistLock.Transport;

/// <summary>
/// The few Redis commands the scripts use, inside this process and on a <see cref="TimeProvider"/>:
/// strings and sorted sets that expire as Redis expires them (a key set with PX n is gone once n ms
/// have passed), TIME, and PUBLISH, which answers how many listen. The in-memory node runs
/// the scripts' C# twins on it, one at a time, as Redis runs scripts.
/// </summary>
/// <param name="time">The clock: key expiry and TIME.</param>
/// <param name="publish">Delivers a message to a channel's listeners and answers how many there are.</param>
internal sealed class MemoryKeyspace(TimeProvider time, Func<string, string, int> publish)
{
    private readonly Dictionary<string, Entry> _keys = new(StringComparer.Ordinal);

    /// <summary>The server's clock in milliseconds (TIME).</summary>
    public long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The server's clock in microseconds (TIME).</summary>
    public long NowMicroseconds => (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>Keys held now, expired ones not yet swept included (for tests).</summary>
    public int Count => _keys.Count;

    public string? Get(string key) => Live(key)?.Text;

    /// <summary>SET, with PX when <paramref name="px"/> is given (without, the key does not expire).</summary>
    public void Set(string key, string value, long? px = null) =>
        _keys[key] = new Entry { Text = value, ExpiresAt = px is { } ms ? Now + ms : long.MaxValue };

    public bool SetIfAbsent(string key, string value, long px)
    {
        if (Live(key) is not null)
        {
            return false;
        }

        Set(key, value, px);
        return true;
    }

    public bool Del(string key) => Live(key) is not null && _keys.Remove(key);

    public bool Exists(string key) => Live(key) is not null;

    /// <summary>PTTL: ms left, -1 without expiry, -2 when the key does not exist.</summary>
    public long PTtl(string key) => Live(key) is { } entry ? (entry.ExpiresAt == long.MaxValue ? -1 : entry.ExpiresAt - Now) : -2;

    public bool PExpire(string key, long ms)
    {
        if (Live(key) is not { } entry)
        {
            return false;
        }

        entry.ExpiresAt = Now + ms;
        if (ms <= 0)
        {
            _keys.Remove(key);
        }

        return true;
    }

    /// <summary>INCR of a counter without expiry (a missing one counts from 0).</summary>
    public long Incr(string key)
    {
        var value = long.Parse(Get(key) ?? "0", System.Globalization.CultureInfo.InvariantCulture) + 1;
        var left = PTtl(key);
        _keys[key] = new Entry { Text = value.ToString(System.Globalization.CultureInfo.InvariantCulture), ExpiresAt = left >= 0 ? Now + left : long.MaxValue };
        return value;
    }

    public int Publish(string channel, string message) => publish(channel, message);

    public void ZAdd(string key, double score, string member)
    {
        if (Live(key) is not { Set: { } set })
        {
            set = new SortedMembers();
            _keys[key] = new Entry { Set = set };
        }

        set.Add(member, score);
    }

    public bool ZRem(string key, string member)
    {
        if (Live(key) is not { Set: { } set } || !set.Remove(member))
        {
            return false;
        }

        if (set.Count == 0)
        {
            _keys.Remove(key);
        }

        return true;
    }

    public double? ZScore(string key, string member) => Live(key) is { Set: { } set } && set.TryGetScore(member, out var score) ? score : null;

    public int ZCard(string key) => Live(key)?.Set?.Count ?? 0;

    /// <summary>The members in order (score, then member): ZRANGE with indexes from the start or, negative, from the end.</summary>
    public IReadOnlyList<(string Member, double Score)> ZRange(string key, int start, int stop)
    {
        var all = Live(key)?.Set?.InOrder() ?? [];
        var from = start < 0 ? Math.Max(0, all.Count + start) : start;
        var to = Math.Min(all.Count - 1, stop < 0 ? all.Count + stop : stop);
        return from > to ? [] : all.Skip(from).Take(to - from + 1).ToList();
    }

    /// <summary>ZREMRANGEBYSCORE key -inf max.</summary>
    public void ZRemUpTo(string key, double max)
    {
        foreach (var (member, _) in ZRange(key, 0, -1).Where(e => e.Score <= max))
        {
            ZRem(key, member);
        }
    }

    /// <summary>Drops the keys whose time has passed; Redis does the same in the background.</summary>
    public void Sweep()
    {
        foreach (var key in _keys.Keys)
        {
            Live(key);
        }
    }

    private Entry? Live(string key)
    {
        if (!_keys.TryGetValue(key, out var entry))
        {
            return null;
        }

        // Gone when its time is up (Redis keeps a key for the millisecond it expires in; a fake
        // clock that moves by the TTL exactly should find the lock free).
        if (Now < entry.ExpiresAt)
        {
            return entry;
        }

        _keys.Remove(key);
        return null;
    }

    private sealed class Entry
    {
        public string? Text { get; init; }

        public SortedMembers? Set { get; init; }

        public long ExpiresAt { get; set; } = long.MaxValue;
    }

    /// <summary>A sorted set: members ordered by score, then by member (ordinal), as Redis orders them.</summary>
    private sealed class SortedMembers
    {
        private readonly Dictionary<string, double> _scores = new(StringComparer.Ordinal);
        private readonly SortedSet<(double Score, string Member)> _order = new(Comparer<(double Score, string Member)>.Create(
            static (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : string.CompareOrdinal(a.Member, b.Member)));

        public int Count => _scores.Count;

        public void Add(string member, double score)
        {
            Remove(member);
            _scores[member] = score;
            _order.Add((score, member));
        }

        public bool Remove(string member) => _scores.Remove(member, out var score) && _order.Remove((score, member));

        public bool TryGetScore(string member, out double score) => _scores.TryGetValue(member, out score);

        public List<(string Member, double Score)> InOrder() => _order.Select(e => (e.Member, e.Score)).ToList();
    }
}
