using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>A Lua script shipped as an embedded resource and run by its SHA1.</summary>
internal sealed class LockScript
{
    private const string IncludeDirective = "--@include ";

    private readonly byte[] _sha1;

    private LockScript(string name, string text)
    {
        Name = name;
        Text = text;
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }

    public string Name { get; }

    public string Text { get; }

    /// <summary>
    /// Loads an embedded script. A line <c>--@include NAME</c> is replaced by the embedded
    /// fragment NAME.lua, so that logic two scripts share (a Lua local function) is written once.
    /// The wire format's markers are defined once, here, from the C# constants, as Lua locals after
    /// the script's leading comment: <c>RESERVED_PREFIX</c> (a lock reserved for a woken waiter) and
    /// <c>STANDBY_PREFIX</c> (the notice to the waiter behind it), <c>PROBE_PREFIX</c> (a notice that
    /// only counts a channel's listeners), <c>READER_PREFIX</c> (a reader's
    /// place in the line of waiters) and <c>READERS_MARKER</c> (the value of a lock readers hold).
    /// </summary>
    public static LockScript Load(string name)
    {
        var included = Read(name).Split('\n').Select(line =>
            line.StartsWith(IncludeDirective, StringComparison.Ordinal) ? Read(line[IncludeDirective.Length..].Trim()) : line);
        var lines = string.Join('\n', included).Split('\n').ToList();
        var firstCode = lines.FindIndex(line => !line.StartsWith("--", StringComparison.Ordinal));
        lines.Insert(firstCode < 0 ? lines.Count : firstCode, Definitions);
        return new LockScript(name, string.Join('\n', lines));
    }

    private static readonly string Definitions =
        $"local RESERVED_PREFIX = '{LockKeyLayout.ReservedPrefix}'\nlocal STANDBY_PREFIX = '{Algorithm.ReleaseNotice.StandbyPrefix}'\n" +
        $"local PROBE_PREFIX = '{Algorithm.ReleaseNotice.ProbePrefix}'\n" +
        $"local READER_PREFIX = '{Algorithm.LockTarget.ReaderWaiterPrefix}'\nlocal READERS_MARKER = '{LockKeyLayout.ReadersMarker}'";

    private static string Read(string name)
    {
        var resource = $"DistLock.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded script '{resource}' is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Runs the script with EVALSHA; a server that does not know it yet (first use, restart,
    /// SCRIPT FLUSH) answers NOSCRIPT, and then the text is sent once with EVAL, which caches it.
    /// </summary>
    public Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args) =>
        EvaluateAsync(database, keys, args, static reply => reply);

    /// <summary>
    /// Runs the script like <see cref="EvaluateAsync(IDatabaseAsync, RedisKey[], RedisValue[])"/>
    /// and reads the reply with <paramref name="read"/>: a caller that only translates the reply
    /// needs no async method of its own, which keeps the hot path one state machine shorter.
    /// </summary>
    public Task<T> EvaluateAsync<T>(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args, Func<RedisResult, T> read) =>
        EvaluateAsync(database, keys, args, static (reply, read) => read(reply), read);

    /// <summary>Like <see cref="EvaluateAsync{T}(IDatabaseAsync, RedisKey[], RedisValue[], Func{RedisResult, T})"/>, with state for the reader (no closure to allocate).</summary>
    public async Task<T> EvaluateAsync<TState, T>(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args, Func<RedisResult, TState, T> read, TState state)
    {
        RedisResult reply;
        try
        {
            reply = await database.ScriptEvaluateAsync(_sha1, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            reply = await database.ScriptEvaluateAsync(Text, keys, args).ConfigureAwait(false);
        }

        return read(reply, state);
    }
}
