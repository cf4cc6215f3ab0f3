using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// One Lua script (an embedded resource), run by Redis and by the in-memory node alike, on Redis by
/// its SHA1 (see <see cref="EvaluateAsync"/> for why not by its text).
/// </summary>
internal sealed class LockScript
{
    private const string IncludeDirective = "--@include ";

    // The wire format's markers, defined once from the C# constants, as Lua locals after the
    // script's leading comment: no script spells them.
    private static readonly string Definitions =
        $"local RESERVED_PREFIX = '{LockKeyLayout.ReservedPrefix}'\nlocal READERS_MARKER = '{LockKeyLayout.ReadersMarker}'\n" +
        $"local READER_PREFIX = '{LockKeyLayout.ReaderPrefix}'\nlocal PROBE_PREFIX = '{Algorithm.ReleaseNotice.ProbePrefix}'";

    private LockScript(string name)
    {
        Name = name;
        var lines = Read(name).Split('\n')
            .SelectMany(line => line.StartsWith(IncludeDirective, StringComparison.Ordinal) ? Read(line[IncludeDirective.Length..].Trim()).Split('\n') : [line])
            .ToList();
        var firstCode = lines.FindIndex(line => !line.StartsWith("--", StringComparison.Ordinal));
        lines.Insert(firstCode < 0 ? lines.Count : firstCode, Definitions);

        // The leading comment (KEYS and ARGV) stays; the other comments and blank lines go: the
        // client finds a script's SHA by its text on every call, so every byte is paid per call.
        Text = string.Join('\n', lines.Where((line, i) => i < firstCode || (line.Trim().Length > 0 && !line.TrimStart().StartsWith("--", StringComparison.Ordinal))));
#pragma warning disable CA5350 // Redis names a script by the SHA1 of its text: not a security use.
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
#pragma warning restore CA5350
    }

    public static LockScript Acquire { get; } = new("acquire");

    public static LockScript AcquireAll { get; } = new("acquire-all");

    public static LockScript Release { get; } = new("release");

    public static LockScript Extend { get; } = new("extend");

    public static LockScript Leave { get; } = new("leave");

    public static LockScript ForceRelease { get; } = new("force-release");

    public static LockScript Inspect { get; } = new("inspect");

    public static LockScript Fence { get; } = new("fence-lock");

    public static LockScript AcquireRead { get; } = new("acquire-read");

    public static LockScript ReleaseRead { get; } = new("release-read");

    public static LockScript ExtendRead { get; } = new("extend-read");

    public static LockScript FenceRead { get; } = new("fence-read");

    public static LockScript AcquireSemaphore { get; } = new("acquire-semaphore");

    public static LockScript ReleaseSemaphore { get; } = new("release-semaphore");

    public static LockScript ExtendSemaphore { get; } = new("extend-semaphore");

    public static LockScript LeaveSemaphore { get; } = new("leave-semaphore");

    public static LockScript ForceReleaseSemaphore { get; } = new("force-release-semaphore");

    public static LockScript InspectSemaphore { get; } = new("inspect-semaphore");

    public static LockScript FenceSemaphore { get; } = new("fence-semaphore");

    /// <summary><see cref="FencedRedisStore"/>'s write: on the protected side, never in memory.</summary>
    public static LockScript FencedWrite { get; } = new("fenced-write");

    public string Name { get; }

    /// <summary>The SHA1 of <see cref="Text"/>, by which Redis knows the script once loaded.</summary>
    public byte[] Hash { get; }

    /// <summary>The script as sent, includes and definitions in place.</summary>
    public string Text { get; }

    /// <summary>
    /// Runs the script by its SHA (EVALSHA); where the server does not know it yet (first call, a
    /// restart, SCRIPT FLUSH), by its text, which StackExchange.Redis loads. The client's own call by
    /// text would do both, but it finds the SHA by looking the whole text up in a table on every call:
    /// 64 tasks calling release.lua cost 13.5-15.3 us of client CPU a call by text, 9.7-10.2 by SHA.
    /// </summary>
    /// <remarks>
    /// A batch or a transaction (<see cref="FencedRedisStore"/> takes any <see cref="IDatabaseAsync"/>; both are also an <see cref="IDatabase"/>)
    /// gets the text: its commands are sent when it is executed, so a resend after NOSCRIPT would
    /// never go, and would not be part of the transaction.
    /// </remarks>
    public Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args) =>
        database is IDatabase direct and not IBatch ? EvaluateAsync(direct, keys, args, static result => result) : database.ScriptEvaluateAsync(Text, keys, args);

    /// <summary>
    /// Runs the script by its SHA, by its text on NOSCRIPT, and reads its answer with
    /// <paramref name="read"/> in the same step (one state machine for both: the hot path of every
    /// script call on Redis).
    /// </summary>
    public async Task<T> EvaluateAsync<T>(IDatabase database, RedisKey[] keys, RedisValue[] args, Func<RedisResult, T> read)
    {
        RedisResult result;
        try
        {
            result = await database.ScriptEvaluateAsync(Hash, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (IsNoScript(e))
        {
            result = await database.ScriptEvaluateAsync(Text, keys, args).ConfigureAwait(false);
        }

        return read(result);
    }

    /// <summary>The server does not know the script (first call, a restart, SCRIPT FLUSH): send its text.</summary>
    private static bool IsNoScript(RedisServerException e) => e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    private static string Read(string name)
    {
        var resource = $"DistLock.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded script '{resource}' is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
