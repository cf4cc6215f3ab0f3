using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace DistLock.Cli;

/// <summary>Where the locks are: the --redis options, else DISTLOCK_REDIS (several separated by ';').</summary>
internal static partial class RedisTargets
{
    public const string EnvironmentVariable = "DISTLOCK_REDIS";

    /// <summary>
    /// How long the tool waits for a node to connect unless the configuration string says otherwise
    /// (connectTimeout=...). StackExchange.Redis's default of 5 s would add 5 s to every call while a
    /// Redlock node is down; a loopback or LAN connect takes milliseconds.
    /// </summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long <see cref="ProbeAsync"/> waits for the client to record a failure's cause.</summary>
    private static readonly TimeSpan CauseWait = TimeSpan.FromSeconds(1);

    /// <summary>How long a node whose connect timed out is asked again, in case its connection was about to be made.</summary>
    private static readonly TimeSpan LateConnectWait = TimeSpan.FromMilliseconds(300);

    /// <summary>The configuration strings, each checked: a malformed one is bad usage (64) naming where it came from.</summary>
    public static IReadOnlyList<string> Resolve(string[]? fromOptions)
    {
        if (fromOptions is { Length: > 0 })
        {
            Array.ForEach(fromOptions, target => Check(target, "--redis"));
            return fromOptions;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        var targets = string.IsNullOrWhiteSpace(fromEnvironment)
            ? []
            : fromEnvironment.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Array.ForEach(targets, target => Check(target, EnvironmentVariable));
        return targets;
    }

    /// <summary>
    /// Connects to every node at once, each with a short connect timeout, and names the nodes that
    /// are down: a warning when a majority is still up (Redlock goes on), exit 69 otherwise.
    /// </summary>
    public static async Task<Connection> ConnectAsync(IReadOnlyList<string> targets, RedisLockManagerOptions options, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            throw new CliException(ExitCodes.Usage, $"no Redis given: use --redis HOST:PORT (repeat it for Redlock) or set {EnvironmentVariable}");
        }

        var parsed = targets.Select(Parse).ToArray();
        var started = Stopwatch.GetTimestamp();
        var connecting = parsed.Select(p => ConnectionMultiplexer.ConnectAsync(p)).ToArray();
        ConnectionMultiplexer[] multiplexers;
        try
        {
            multiplexers = await Task.WhenAll(connecting).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or InvalidOperationException)
        {
            throw new CliException(ExitCodes.RedisUnavailable, $"cannot reach Redis: {ErrorText.Clean(ex.Message)}", ex);
        }

        var connection = new Connection(multiplexers);
        var down = Enumerable.Range(0, multiplexers.Length).Where(i => !multiplexers[i].IsConnected).ToList();
        if (down.Count > 0)
        {
            // In parallel, each within its connect timeout: a node that hangs must not add its wait to the others'.
            // Connects that returned well before their timeout were refused, and the cause is on its
            // way; after a timeout (a paused server), none is coming.
            var elapsed = Stopwatch.GetElapsedTime(started);
            var probes = await Task.WhenAll(down.Select(i => ProbeAsync(
                multiplexers[i], TimeSpan.FromMilliseconds(parsed[i].ConnectTimeout), refused: elapsed * 2 < TimeSpan.FromMilliseconds(parsed[i].ConnectTimeout))));
            // A node that answered the probe is up: its connect was slow, not refused (exit 69 said
            // "cannot reach Redis at ... (answers now)" when four tools started at once).
            (down, probes) = ([.. down.Where((_, n) => probes[n].Error is not null)], [.. probes.Where(p => p.Error is not null)]);
            var reasons = down.Select((i, n) => $"{Name(multiplexers[i])} ({probes[n].Reason}{TlsHint(parsed[i], probes[n].Reason)})").ToList();
            var cause = probes.FirstOrDefault().Error;

            var quorum = (multiplexers.Length / 2) + 1;
            if (multiplexers.Length - down.Count < quorum)
            {
                await connection.DisposeAsync();
                var counted = multiplexers.Length == 1 ? "" : $"; {multiplexers.Length - down.Count} of {multiplexers.Length} up, {quorum} needed";
                throw new CliException(ExitCodes.RedisUnavailable, $"cannot reach Redis at {string.Join(", ", reasons)}{counted}", cause);
            }

            if (down.Count > 0)
            {
                Console.Error.WriteLine($"distlock: warning: Redis node(s) down: {string.Join(", ", reasons)}; going on with {multiplexers.Length - down.Count} of {multiplexers.Length}");
            }
        }

        try
        {
            connection.Locks = new RedisLockManager(multiplexers, options);
        }
        catch (ArgumentException ex)
        {
            await connection.DisposeAsync();
            throw new CliException(ExitCodes.Usage, $"bad Redis configuration: {ErrorText.Clean(ex.Message)}", ex);
        }

        return connection;
    }

    /// <summary>
    /// Refuses what StackExchange.Redis would take and then fail to connect to as if Redis were down:
    /// it reads any word without '=' as a host ("=x" becomes the host "=x"), so a typo would be exit
    /// 69, "cannot reach Redis at Unspecified/=x:6379", instead of a usage error.
    /// </summary>
    private static void Check(string target, string source)
    {
        if (string.IsNullOrWhiteSpace(target))
        {
            throw new CliException(ExitCodes.Usage, $"{source}: empty; give host:port (or set DISTLOCK_REDIS)");
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(target);
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{source}: '{target}' is not a valid configuration string: {ErrorText.Clean(ex.Message)}", ex);
        }

        if (options.EndPoints.Count == 0)
        {
            // StackExchange.Redis drops a word it cannot read as host:port ("host:port", "a:b:c").
            var word = target.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(w => !w.Contains('=', StringComparison.Ordinal));
            throw new CliException(ExitCodes.Usage, $"{source}: '{target}' is not a valid configuration string: " +
                (word is null ? "it names no host:port" : $"'{word}' is neither host:port nor key=value{UrlHint(target)}"));
        }

        if (PortZero().Match(target) is { Success: true } zero)
        {
            // The client reads port 0 as "no port" and would connect to 6379 instead.
            throw new CliException(ExitCodes.Usage, $"{source}: '{zero.Value.Trim()}' names port 0; write the server's port (or leave it out for 6379)");
        }

        if (RedisHostNames.FirstMalformed(options) is { } host)
        {
            throw new CliException(ExitCodes.Usage, $"{source}: '{target}' is not a valid configuration string: '{host}' is neither host:port nor key=value{UrlHint(target)}");
        }
    }

    // redis://host:port is how other tools spell a server; StackExchange.Redis takes host:port and options.
    private static string UrlHint(string target) =>
        target.Contains("://", StringComparison.Ordinal) ? " (not a URL: write host:port, then ',password=...,ssl=true' as needed)" : "";

    private static ConfigurationOptions Parse(string target)
    {
        var options = ConfigurationOptions.Parse(target);
        if (!target.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectTimeout = (int)ConnectTimeout.TotalMilliseconds;
        }

        // StackExchange.Redis tries a node that accepts the connection but does not answer (a paused
        // or overloaded server) connectRetry times (3 by default), each for the whole connect
        // timeout: 3 s instead of 1. One try is enough here; the tool's calls are short.
        if (!target.Contains("connectRetry", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectRetry = 1;
        }

        // As the library's own ConnectAsync: fail commands at once while a node is down, keep reconnecting.
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return options;
    }

    /// <summary>A TLS client on a plain port waits for a handshake that never comes, and reads as a server that does not answer: say so.</summary>
    private static string TlsHint(ConfigurationOptions options, string reason) =>
        options.Ssl && reason == "not answering" ? "; ssl=true: does the server speak TLS on this port?" : "";

    /// <summary>An endpoint written with port 0 ("host:0").</summary>
    [GeneratedRegex(@"(?<=^|,)[^,=]*:0+\s*(?=,|$)")]
    private static partial Regex PortZero();

    /// <summary>"host:port" (a DnsEndPoint prints as "Unspecified/host:port").</summary>
    private static string Name(IConnectionMultiplexer node) =>
        string.Join(",", node.GetEndPoints().Select(e => e is DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : e.ToString()));

    /// <summary>
    /// Why a node is down, in the socket's or the server's words ("Connection refused"), or "not
    /// answering" when it accepted the connection but said nothing; at most <paramref name="limit"/>.
    /// With <paramref name="refused"/> (the connect failed early) it waits up to a second for the cause.
    /// </summary>
    private static async Task<(string Reason, Exception? Error)> ProbeAsync(IConnectionMultiplexer node, TimeSpan limit, bool refused)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                await node.GetDatabase().PingAsync().WaitAsync(limit);
                return ("answers now", null);
            }
            catch (TimeoutException ex)
            {
                return ("not answering", ex);
            }
            catch (RedisConnectionException ex) when (ex.InnerException is null && Stopwatch.GetElapsedTime(started) < (refused ? CauseWait : LateConnectWait) && Stopwatch.GetElapsedTime(started) < limit)
            {
                // The client records why a connection was refused a moment after (on a busy machine,
                // after the connect returned): a PING before that gets no cause, and the refused port
                // would read "not answering". Ask again for a short while. After a timeout, the
                // connection may be a moment from done (several tools starting at once on a busy
                // machine): a node that answers then is up, not down.
                await Task.Delay(50);
            }
            catch (RedisException ex)
            {
                return Reason(ex);
            }
        }
    }

    /// <summary>A PING's error in a few words: its innermost cause, or the kind of failure its state dump names.</summary>
    private static (string Reason, Exception? Error) Reason(RedisException ex)
    {
        Exception innermost = ex;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        // A password refused (or missing) does not fail the connect: the next command gets NOAUTH.
        if (innermost.Message.Contains("NOAUTH", StringComparison.Ordinal) || innermost.Message.Contains("WRONGPASS", StringComparison.Ordinal))
        {
            return ("authentication failed: the server wants a password, or refused the one given (password=... in --redis)", ex);
        }

        return (innermost == ex ? ErrorText.ConnectionFailure(ex.Message) ?? "not answering" : ErrorText.Clean(innermost.Message), ex);
    }

    /// <summary>A manager and the connections under it, closed together.</summary>
    internal sealed class Connection(ConnectionMultiplexer[] multiplexers) : IAsyncDisposable
    {
        public RedisLockManager Locks { get; set; } = null!;

        public async ValueTask DisposeAsync()
        {
            if (Locks is not null)
            {
                await Locks.DisposeAsync();
            }

            foreach (var multiplexer in multiplexers)
            {
                await multiplexer.DisposeAsync();
            }
        }
    }
}
