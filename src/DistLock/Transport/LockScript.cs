using System.Reflection;
using System.Text;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// One Lua script (an embedded resource), with its C# twin for the in-memory node. StackExchange.Redis
/// runs the text by its SHA1 (EVALSHA once the server has seen it) and sends it again when a server
/// answers NOSCRIPT (a restart, SCRIPT FLUSH), so nothing here does that by hand.
/// </summary>
internal sealed class LockScript
{
    private const string IncludeDirective = "--@include ";

    // The wire format's markers, defined once from the C# constants, as Lua locals after the
    // script's leading comment: no script spells them.
    private static readonly string Definitions =
        $"local RESERVED_PREFIX = '{LockKeyLayout.ReservedPrefix}'\nlocal READERS_MARKER = '{LockKeyLayout.ReadersMarker}'\n" +
        $"local READER_PREFIX = '{LockKeyLayout.ReaderPrefix}'\nlocal PROBE_PREFIX = '{Algorithm.ReleaseNotice.ProbePrefix}'";

    private LockScript(string name, Func<MemoryKeyspace, RedisKey[], RedisValue[], RedisResult>? twin)
    {
        Name = name;
        Twin = twin;
        var lines = Read(name).Split('\n')
            .SelectMany(line => line.StartsWith(IncludeDirective, StringComparison.Ordinal) ? Read(line[IncludeDirective.Length..].Trim()).Split('\n') : [line])
            .ToList();
        var firstCode = lines.FindIndex(line => !line.StartsWith("--", StringComparison.Ordinal));
        lines.Insert(firstCode < 0 ? lines.Count : firstCode, Definitions);
        Text = string.Join('\n', lines);
    }

    public static LockScript Acquire { get; } = new("acquire", LockTwins.Acquire);

    public static LockScript Release { get; } = new("release", LockTwins.Release);

    public static LockScript Extend { get; } = new("extend", LockTwins.Extend);

    public static LockScript Leave { get; } = new("leave", LockTwins.Leave);

    public static LockScript ForceRelease { get; } = new("force-release", LockTwins.ForceRelease);

    public static LockScript Inspect { get; } = new("inspect", LockTwins.Inspect);

    public static LockScript Fence { get; } = new("fence-lock", LockTwins.Fence);

    public static LockScript AcquireRead { get; } = new("acquire-read", ReadTwins.Acquire);

    public static LockScript ReleaseRead { get; } = new("release-read", ReadTwins.Release);

    public static LockScript ExtendRead { get; } = new("extend-read", ReadTwins.Extend);

    public static LockScript FenceRead { get; } = new("fence-read", ReadTwins.Fence);

    public static LockScript AcquireSemaphore { get; } = new("acquire-semaphore", SemaphoreTwins.Acquire);

    public static LockScript ReleaseSemaphore { get; } = new("release-semaphore", SemaphoreTwins.Release);

    public static LockScript ExtendSemaphore { get; } = new("extend-semaphore", SemaphoreTwins.Extend);

    public static LockScript LeaveSemaphore { get; } = new("leave-semaphore", SemaphoreTwins.Leave);

    public static LockScript ForceReleaseSemaphore { get; } = new("force-release-semaphore", SemaphoreTwins.ForceRelease);

    public static LockScript InspectSemaphore { get; } = new("inspect-semaphore", SemaphoreTwins.Inspect);

    public static LockScript FenceSemaphore { get; } = new("fence-semaphore", SemaphoreTwins.Fence);

    /// <summary><see cref="FencedRedisStore"/>'s write: on the protected side, never in memory.</summary>
    public static LockScript FencedWrite { get; } = new("fenced-write", twin: null);

    public string Name { get; }

    /// <summary>The script as sent, includes and definitions in place.</summary>
    public string Text { get; }

    /// <summary>The same steps in C#, on the in-memory node's keyspace; null for a script that never runs there.</summary>
    public Func<MemoryKeyspace, RedisKey[], RedisValue[], RedisResult>? Twin { get; }

    public Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args) =>
        database.ScriptEvaluateAsync(Text, keys, args);

    private static string Read(string name)
    {
        var resource = $"DistLock.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded script '{resource}' is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
