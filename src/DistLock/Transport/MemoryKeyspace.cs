using System.Globalization;

namespace DistLock.Transport;

/// <summary>
/// The few Redis commands the scripts call, inside this process, at the time its node gives it:
/// strings and sorted sets that expire as Redis expires them (a key set with PX n is gone once n ms
/// have passed), TIME, and PUBLISH, which answers how many listen. Each answers as Redis answers a
/// script: null (nil), a string, a long, <see cref="Ok"/> or a list. Not thread-safe: the in-memory
/// node runs one script at a time, as Redis does.
/// </summary>
/// <param name="publish">Delivers a message to a channel's listeners and answers how many there are.</param>
internal sealed class MemoryKeyspace(Func<string, string, int> publish)
{
    private readonly Dictionary<string, Entry> _keys = new(StringComparer.Ordinal);
    private DateTimeOffset _time = DateTimeOffset.UnixEpoch;
    private int _sweepAt = 1024;

    /// <summary>The status reply of a command that succeeded without an answer (SET).</summary>
    public static object Ok { get; } = new();

    /// <summary>Keys held now, expired ones not yet swept included (for tests).</summary>
    public int Count => _keys.Count;

    private long Now => _time.ToUnixTimeMilliseconds();

    /// <summary>
    /// Sets the time the next commands run at (key expiry and TIME), as the node read it before it
    /// took its gate: reading a clock can run timers inline (<c>FakeTimeProvider</c> does), so the
    /// keyspace never reads one itself. Time never goes back: a caller that read the clock earlier
    /// and got the gate later runs at the later time.
    /// </summary>
    public void MoveTo(DateTimeOffset now)
    {
        if (now > _time)
        {
            _time = now;
        }
    }

    /// <summary>Runs one command (its name and arguments as Redis receives them).</summary>
    public object? Execute(IReadOnlyList<string> a)
    {
        var key = a.Count > 1 ? a[1] : string.Empty;
        switch (a[0].ToUpperInvariant())
        {
            case "GET":
                return Live(key)?.Text;
            case "SET":
                return Set(a);
            case "EXISTS":
                return (long)a.Skip(1).Count(k => Live(k) is { Set: null or { Count: > 0 } });
            case "DEL":
                return (long)a.Skip(1).Count(k => Live(k) is not null && _keys.Remove(k));
            case "INCR":
                var entry = Live(key);
                var value = long.Parse(entry?.Text ?? "0", CultureInfo.InvariantCulture) + 1;
                _keys[key] = new Entry { Text = Format(value), ExpiresAt = entry?.ExpiresAt ?? long.MaxValue };
                return value;
            case "PEXPIRE":
                return PExpire(key, long.Parse(a[2], CultureInfo.InvariantCulture));
            case "PTTL":
                return Live(key) is { } live ? (live.ExpiresAt == long.MaxValue ? -1 : live.ExpiresAt - Now) : -2L;
            case "TIME":
                var us = (_time - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
                return new object[] { Format(us / 1_000_000), Format(us % 1_000_000) };
            case "ZADD":
                var members = Live(key)?.Set ?? (_keys[key] = new Entry { Set = new SortedMembers() }).Set!;
                return members.Add(a[3], Score(a[2])) ? 1L : 0L;
            case "ZCARD":
                return (long)(Live(key)?.Set?.Count ?? 0);
            case "ZSCORE":
                return Live(key)?.Set is { } set && set.TryGetScore(a[2], out var score) ? Format(score) : null;
            case "ZRANK":
                return Live(key)?.Set?.InOrder().FindIndex(e => e.Member == a[2]) is >= 0 and var rank ? (long)rank : null;
            case "ZREM":
                return (long)a.Skip(2).Count(member => ZRem(key, member));
            case "ZRANGE":
                return List(ByRank(key, int.Parse(a[2], CultureInfo.InvariantCulture), int.Parse(a[3], CultureInfo.InvariantCulture)), a);
            case "ZRANGEBYSCORE":
                var limit = IndexOf(a, "LIMIT");
                var found = ByScore(key, a[2], a[3]);
                return List(limit < 0 ? found : found.Skip(int.Parse(a[limit + 1], CultureInfo.InvariantCulture)).Take(int.Parse(a[limit + 2], CultureInfo.InvariantCulture)), a);
            case "ZREMRANGEBYSCORE":
                return (long)ByScore(key, a[2], a[3]).Count(e => ZRem(key, e.Member));
            case "KEYS":
                var glob = new RedisGlob(key);
                return _keys.Keys.Where(k => glob.IsMatch(k) && Live(k) is not null).Order(StringComparer.Ordinal).ToArray<object>();
            case "PUBLISH" or "SPUBLISH":
                return (long)publish(key, a[2]);
            default:
                throw new NotSupportedException($"The in-memory node does not run {a[0]}: no script should call it.");
        }
    }

    /// <summary>
    /// Drops the keys whose time has passed, as Redis does in the background; amortized: each time
    /// the keyspace has doubled, so memory follows the holds in use.
    /// </summary>
    public void SweepWhenGrown()
    {
        if (_keys.Count < _sweepAt)
        {
            return;
        }

        foreach (var key in _keys.Keys)
        {
            Live(key);
        }

        _sweepAt = Math.Max(1024, 2 * _keys.Count);
    }

    /// <summary>A number as Redis writes it: integers without a decimal point.</summary>
    public static string Format(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e18 ? ((long)value).ToString(CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>SET key value [PX ms] [NX] [GET].</summary>
    private object? Set(IReadOnlyList<string> a)
    {
        var old = Live(a[1])?.Text;
        if (IndexOf(a, "NX") > 0 && Live(a[1]) is not null)
        {
            return null;
        }

        var px = IndexOf(a, "PX");
        _keys[a[1]] = new Entry { Text = a[2], ExpiresAt = px > 0 ? Now + long.Parse(a[px + 1], CultureInfo.InvariantCulture) : long.MaxValue };
        return IndexOf(a, "GET") > 0 ? old : Ok;
    }

    private long PExpire(string key, long ms)
    {
        if (Live(key) is not { } entry)
        {
            return 0;
        }

        entry.ExpiresAt = Now + ms;
        Live(key);
        return 1;
    }

    private bool ZRem(string key, string member)
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

    /// <summary>ZRANGE's indexes: from the start or, negative, from the end.</summary>
    private List<(string Member, double Score)> ByRank(string key, int start, int stop)
    {
        var all = Live(key)?.Set?.InOrder() ?? [];
        var from = start < 0 ? Math.Max(0, all.Count + start) : start;
        var to = Math.Min(all.Count - 1, stop < 0 ? all.Count + stop : stop);
        return from > to ? [] : all.GetRange(from, to - from + 1);
    }

    /// <summary>ZRANGEBYSCORE's bounds: a number, -inf or +inf, exclusive after '('.</summary>
    private List<(string Member, double Score)> ByScore(string key, string min, string max)
    {
        static bool Above(double score, string bound) => bound.StartsWith('(') ? score > Score(bound[1..]) : score >= Score(bound);
        static bool Below(double score, string bound) => bound.StartsWith('(') ? score < Score(bound[1..]) : score <= Score(bound);
        return (Live(key)?.Set?.InOrder() ?? []).Where(e => Above(e.Score, min) && Below(e.Score, max)).ToList();
    }

    private static double Score(string text) => text switch
    {
        "-inf" => double.NegativeInfinity,
        "+inf" or "inf" => double.PositiveInfinity,
        _ => double.Parse(text, CultureInfo.InvariantCulture),
    };

    /// <summary>Members, with their scores after each where the command asks WITHSCORES (a flat list, as RESP2).</summary>
    private static object[] List(IEnumerable<(string Member, double Score)> entries, IReadOnlyList<string> a) =>
        IndexOf(a, "WITHSCORES") > 0 ? entries.SelectMany(e => new object[] { e.Member, Format(e.Score) }).ToArray() : entries.Select(e => (object)e.Member).ToArray();

    private static int IndexOf(IReadOnlyList<string> a, string option)
    {
        for (var i = 2; i < a.Count; i++)
        {
            if (string.Equals(a[i], option, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
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

        /// <summary>Adds or moves a member; true when it is new.</summary>
        public bool Add(string member, double score)
        {
            var added = !Remove(member);
            _scores[member] = score;
            _order.Add((score, member));
            return added;
        }

        public bool Remove(string member) => _scores.Remove(member, out var score) && _order.Remove((score, member));

        public bool TryGetScore(string member, out double score) => _scores.TryGetValue(member, out score);

        public List<(string Member, double Score)> InOrder() => [.. _order.Select(e => (e.Member, e.Score))];
    }
}
