using System.Text;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Maps resource names to Redis keys: <c>{prefix}{{resource}}</c>. The braces are a Redis Cluster
/// hash tag, so every key that belongs to one lock lands in the same slot. Braces and '%' in the
/// resource are percent-encoded, so a resource name can neither end the tag early (and pick
/// another resource's slot) nor collide with another name. A name may choose its slot as Redis
/// keys do, by starting with a tag: <c>{orders}42</c> (see <see cref="LockKey"/>).
/// </summary>
internal sealed class LockKeyLayout
{
    public const int MaxResourceBytes = 1024;

    /// <summary>
    /// The value of a lock that a release reserved for the waiter it woke: this, then the waiter's
    /// id. Written and read by the scripts (as RESERVED_PREFIX, see <see cref="LockScript"/>) and by
    /// the in-memory node; no caller's value may start with it.
    /// </summary>
    public const string ReservedPrefix = "reserved:";

    /// <summary>
    /// The value of a lock held by readers (their leases are in <see cref="ReadersKey"/>), or
    /// reserved for the readers a release woke; READERS_MARKER in the scripts.
    /// </summary>
    public const string ReadersMarker = ReservedPrefix + "readers";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly string _prefix;

    public LockKeyLayout(string prefix) => _prefix = prefix;

    /// <summary>
    /// The lock key of <paramref name="resource"/>: <c>{prefix}{{resource}}</c>, or for a name that
    /// starts with a hash tag of its own, <c>{tag}rest</c>, <c>{prefix}{{tag}}{{rest}}</c>, which Redis
    /// Cluster puts in the slot of <c>tag</c> (the lock named <c>tag</c> is there too), so that a set
    /// of such names is taken by one script. No two names share a key, and no name's key is another's
    /// line or counter: a plain name's key has one pair of braces, a tagged name's two, and every
    /// other key adds a suffix after the last brace.
    /// </summary>
    public string LockKey(string resource) =>
        HashTagged(resource, out var tag, out var rest)
            ? string.Concat(_prefix, "{", Escape(tag), "}{", Escape(rest), "}")
            : string.Concat(_prefix, "{", Escape(resource), "}");

    /// <summary>A name that starts with <c>{tag}</c> (a tag not empty, without braces), as Redis keys choose their Cluster slot.</summary>
    private static bool HashTagged(string resource, out string tag, out string rest)
    {
        var end = resource.Length > 2 && resource[0] == '{' ? resource.IndexOf('}', 2) : -1;
        var tagged = end > 0 && resource.IndexOf('{', 1, end - 1) < 0;
        tag = tagged ? resource[1..end] : string.Empty;
        rest = tagged ? resource[(end + 1)..] : string.Empty;
        return tagged;
    }

    /// <summary>
    /// The key of the semaphore named <paramref name="resource"/>: a sorted set of its holders
    /// (score: when each one's lease runs out, in the server's milliseconds). It is not the lock
    /// of that name: <c>{prefix}{{resource}}:semaphore</c>, with its own line, counter and limit.
    /// </summary>
    public string SemaphoreKey(string resource) => LockKey(resource) + SemaphoreSuffix;

    /// <summary>What a semaphore key adds to the lock key of the same name.</summary>
    public const string SemaphoreSuffix = ":semaphore";

    /// <summary>How a reader queue's id starts (READER_PREFIX in the scripts): a reader's place in the line of waiters.</summary>
    public const string ReaderPrefix = "read:";

    /// <summary>
    /// The keys of a lock, in one hash slot: the lock, its line of waiters (a sorted set of queues by
    /// arrival), its readers (a sorted set: lock id, when its lease runs out) and its fencing counter.
    /// A script is given only those it touches: while a cluster moves the slot, a script naming a key
    /// that has not moved yet beside one that has is refused (TRYAGAIN).
    /// </summary>
    public static RedisKey[] LockKeys(string lockKey) => [lockKey, lockKey + ":waiters", lockKey + ":readers", lockKey + ":fence"];

    /// <summary>The keys of a semaphore: its holders, its line, its limit (maxCount) and its fencing counter.</summary>
    public static RedisKey[] SemaphoreKeys(string semaphoreKey) =>
        [semaphoreKey, semaphoreKey + ":waiters", semaphoreKey + LimitSuffix, semaphoreKey + ":fence"];

    /// <summary>What a semaphore's limit (maxCount) key adds to the semaphore key.</summary>
    public const string LimitSuffix = ":limit";


    /// <summary>The line of waiters of the hold <paramref name="key"/> (see <see cref="LockKeys"/>).</summary>
    public static string WaitersKey(string key) => key + ":waiters";

    /// <summary>The fencing counter of the hold <paramref name="key"/>.</summary>
    public static string FenceKey(string key) => key + ":fence";

    /// <summary>The readers of the lock <paramref name="lockKey"/>.</summary>
    public static string ReadersKey(string lockKey) => lockKey + ":readers";

    /// <summary>The channel on which the queue <paramref name="queue"/> waiting for <paramref name="key"/> is woken (same slot).</summary>
    public static string WakeChannel(string key, string queue) => string.Concat(key, ":wake:", queue);

    /// <summary>The channel on which everyone in <paramref name="key"/>'s line hears its news (see line.lua).</summary>
    public static string NewsChannel(string key) => key + ":handoff";

    /// <summary>
    /// A SCAN pattern that finds the lock keys of every name <paramref name="names"/> matches, and
    /// maybe more: the caller matches the names themselves (<see cref="ResourceOf"/>). A glob on keys
    /// cannot stand for one on names: braces are escaped in a key, and a tagged name's key splits
    /// <c>}{</c> after its tag, where a <c>*</c> would cross and a <c>?</c> would not fit. So only
    /// what every match starts with is carried over, when it decides whether the names are tagged
    /// (it does not start with '{', or it closes the tag): <c>orders:*</c> scans
    /// <c>lock:{orders:*}</c>, <c>{bank}4*</c> scans <c>lock:{bank}{4*}</c>; a pattern that starts
    /// with a wildcard scans every lock key. Keys with a suffix (counter, line) never match.
    /// </summary>
    public string ScanPattern(RedisGlob names)
    {
        var start = names.LiteralPrefix;
        if (names.IsLiteral)
        {
            return GlobLiteral(LockKey(start));
        }

        // LockKey(start + rest) is LockKey(start) without its last brace, then rest escaped, then '}'.
        var decided = start.Length > 0 && (start[0] != '{' || (start.Length > 2 && start.IndexOf('}', 2) > 0));
        return decided ? GlobLiteral(LockKey(start)[..^1]) + "*}" : GlobLiteral(_prefix) + "{*}";
    }

    /// <summary>The resource of a lock key of this layout, or null for another key.</summary>
    public string? ResourceOf(string key)
    {
        if (!key.StartsWith(_prefix + "{", StringComparison.Ordinal) || !key.EndsWith('}'))
        {
            return null;
        }

        // Every '%' of a resource name is escaped, so one decoding pass restores it exactly; "}{"
        // separates a tag from the rest of the name (see LockKey).
        var inner = key[(_prefix.Length + 1)..^1];
        var split = inner.IndexOf("}{", StringComparison.Ordinal);
        return split < 0
            ? Uri.UnescapeDataString(inner)
            : string.Concat("{", Uri.UnescapeDataString(inner[..split]), "}", Uri.UnescapeDataString(inner[(split + 2)..]));
    }

    public static string Escape(string resource)
    {
        if (resource.AsSpan().IndexOfAny('{', '}', '%') < 0)
        {
            return resource;
        }

        var builder = new StringBuilder(resource.Length + 8);
        foreach (var c in resource)
        {
            _ = c switch
            {
                '%' => builder.Append("%25"),
                '{' => builder.Append("%7B"),
                '}' => builder.Append("%7D"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>Validates a resource name at the API boundary.</summary>
    public static void ValidateResource(string resource, string paramName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resource, paramName);
        EnsureWellFormed(resource, "resource name", paramName);
        if (Encoding.UTF8.GetByteCount(resource) > MaxResourceBytes)
        {
            throw new ArgumentException(
                $"The resource name is longer than {MaxResourceBytes} bytes (UTF-8).", paramName);
        }
    }

    /// <summary>
    /// Rejects a string with a lone surrogate: Redis keys and values are UTF-8, where every lone
    /// surrogate becomes U+FFFD, so two different names (or owners' values) would be one.
    /// </summary>
    public static void EnsureWellFormed(string text, string what, string paramName)
    {
        try
        {
            StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"The {what} contains a lone UTF-16 surrogate, which Redis (UTF-8) cannot keep apart from other names.", paramName, ex);
        }
    }

    private static string GlobLiteral(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
