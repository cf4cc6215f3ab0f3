using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>Opens the connections of a manager that owns them.</summary>
internal static partial class RedisConnector
{
    /// <summary>
    /// Connects to all nodes (parsed by <see cref="ParseAll"/>) in parallel. A node that is down does not stop the others: StackExchange.Redis
    /// keeps reconnecting it. Fewer connected nodes than a majority is an error, and so is one
    /// server given twice under different names (<see cref="EnsureDistinctServersAsync"/>).
    /// </summary>
    /// <param name="parsed">One configuration per node, from <see cref="ParseAll"/>.</param>
    /// <param name="nodeTimeout">How long each server may take to answer INFO.</param>
    /// <param name="quorum">How many nodes must be connected (the algorithm's majority).</param>
    /// <param name="cancellationToken">Stops connecting.</param>
    public static async Task<IConnectionMultiplexer[]> ConnectAsync(IReadOnlyList<ConfigurationOptions> parsed, TimeSpan nodeTimeout, int quorum, CancellationToken cancellationToken)
    {
        // The connect log names the kind of failure (AuthenticationFailure for a TLS certificate or a
        // password refused, UnableToConnect, ...), which a later probe may no longer see.
        // TextWriter.Synchronized's wrapper does not pass ToString on, so the text is read from the
        // StringWriter itself, under the lock the wrapper takes (it locks itself).
        var texts = parsed.Select(_ => new StringWriter(CultureInfo.InvariantCulture)).ToArray();
        var logs = texts.Select(TextWriter.Synchronized).ToArray();
        var started = Stopwatch.GetTimestamp();
        var connecting = parsed.Select((p, i) => ConnectionMultiplexer.ConnectAsync(p, logs[i])).ToArray();
        IConnectionMultiplexer?[] multiplexers;
        (string Text, Exception Cause)?[] refused;
        try
        {
            refused = await Task.WhenAll(connecting.Select((c, i) => RefusedWhileWaitingAsync(c, logs[i], texts[i], parsed[i], cancellationToken))).ConfigureAwait(false);
            multiplexers = new IConnectionMultiplexer?[parsed.Count];
            var knownDown = 0;
            if (refused.Any(r => r is not null))
            {
                // The other connects have returned: with those that came back unconnected, is a majority out of reach?
                for (var i = 0; i < parsed.Count; i++)
                {
                    multiplexers[i] = refused[i] is null ? await connecting[i].ConfigureAwait(false) : null;
                }

                knownDown = multiplexers.Count(m => m is not { IsConnected: true });
            }

            if (knownDown <= parsed.Count - quorum)
            {
                // A majority may yet connect, and a manager needs every connection: wait for them all.
                refused = new (string, Exception)?[parsed.Count];
                multiplexers = await Task.WhenAll(connecting).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            _ = DisposeWhenDoneAsync(connecting);
            throw;
        }
        catch (Exception ex)
        {
            _ = DisposeWhenDoneAsync(connecting);
            throw new LockBackendException($"Could not connect to Redis: {ex.Message}", ex);
        }

        var down = Enumerable.Range(0, multiplexers.Length).Where(i => multiplexers[i] is not { IsConnected: true }).ToArray();
        if (multiplexers.Length - down.Length < quorum)
        {
            // Every node that is down is asked why, at once: a wrong password on one must not hide
            // behind a refused port on another.
            var elapsed = Stopwatch.GetElapsedTime(started);
            (string Text, Exception? Cause)[] reasons;
            try
            {
                reasons = await Task.WhenAll(down.Select(i => multiplexers[i] is { } multiplexer
                    ? ReasonAsync(parsed[i], multiplexer, logs[i], texts[i], elapsed, cancellationToken)
                    : Task.FromResult<(string, Exception?)>(refused[i]!.Value))).ConfigureAwait(false);
            }
            finally
            {
                _ = DisposeWhenDoneAsync([.. connecting.Where((_, i) => refused[i] is not null)]);
                await DisposeAllAsync(multiplexers.OfType<IConnectionMultiplexer>()).ConfigureAwait(false);
            }

            var names = down.Select(i => string.Join(",", (multiplexers[i]?.GetEndPoints() ?? [.. parsed[i].EndPoints]).Select(Format))).ToArray();
            var reason = down.Length == 1 ? reasons[0].Text : string.Join("; ", names.Select((name, k) => $"{name}: {reasons[k].Text}"));
            throw new LockBackendException(
                $"Could not connect to Redis at {string.Join("; ", names)} ({down.Length} of {multiplexers.Length} node(s) down): {reason}", reasons[0].Cause);
        }

        var connected = multiplexers.OfType<IConnectionMultiplexer>().ToArray();
        try
        {
            await EnsureDistinctServersAsync(connected, nodeTimeout, "configurations", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or OperationCanceledException)
        {
            await DisposeAllAsync(connected).ConfigureAwait(false);
            throw;
        }

        return connected;
    }

    /// <summary>
    /// Parses every configuration (so a typo fails before anything connects, and at the call,
    /// not in a faulted task), sets what DistLock needs of each connection, and rejects two that
    /// share an endpoint.
    /// </summary>
    /// <param name="configurations">One configuration string per node.</param>
    /// <param name="paramName">The caller's parameter, for the ArgumentException.</param>
    public static ConfigurationOptions[] ParseAll(IReadOnlyList<string> configurations, string paramName)
    {
        var parsed = new ConfigurationOptions[configurations.Count];
        for (var i = 0; i < parsed.Length; i++)
        {
            parsed[i] = Parse(configurations[i], paramName);

            // Commands sent while a node is disconnected fail at once instead of waiting in a
            // backlog, where an acquire could land long after the caller gave up on it.
            parsed[i].AbortOnConnectFail = false;
            parsed[i].BacklogPolicy = BacklogPolicy.FailFast;

            // One connect attempt, so ConnectAsync is bounded by the connect timeout: the client
            // retries three times by default (15 s for a server that accepts and never answers),
            // which buys nothing here, since it keeps reconnecting a node that is down anyway.
            if (!configurations[i].Contains("connectRetry", StringComparison.OrdinalIgnoreCase))
            {
                parsed[i].ConnectRetry = 1;
            }
        }

        EnsureDistinct(parsed.Select(p => (IEnumerable<EndPoint>)p.EndPoints).ToList(), paramName);
        return parsed;

    }

    /// <summary>
    /// Validates the connections a caller hands to a manager. With several, it also reads each
    /// connected server's identity (<see cref="EnsureDistinctServersAsync"/>), waiting for the
    /// answers: a constructor cannot await, and this runs once per manager.
    /// </summary>
    public static IConnectionMultiplexer[] CheckNodes(IEnumerable<IConnectionMultiplexer> nodes, TimeSpan nodeTimeout)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var list = nodes.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("At least one Redis connection is needed.", nameof(nodes));
        }

        if (list.Any(n => n is null))
        {
            throw new ArgumentException("A Redis connection is null.", nameof(nodes));
        }

        EnsureDistinct(list.Select(n => (IEnumerable<EndPoint>)n.GetEndPoints()).ToList(), nameof(nodes));
        if (list.Length > 1)
        {
            EnsureDistinctServersAsync(list, nodeTimeout, nameof(nodes), CancellationToken.None).GetAwaiter().GetResult();
        }

        return list;
    }

    /// <summary>
    /// Rejects two nodes that are one server under different names (<c>127.0.0.1:6379</c> and
    /// <c>localhost:6379</c>, a host name and its address, two DNS names): it would count twice
    /// towards the quorum, so one server could make a majority of three alone. Servers are told
    /// apart by what they are, the <c>run_id</c> of <c>INFO server</c> (random per server
    /// process), read once here from every connected server of every node (each server of a
    /// cluster). A server that is down, does not answer within <paramref name="timeout"/>, or hides
    /// <c>run_id</c> cannot be compared and is let through.
    /// </summary>
    public static async Task EnsureDistinctServersAsync(IReadOnlyList<IConnectionMultiplexer> nodes, TimeSpan timeout, string paramName, CancellationToken cancellationToken)
    {
        if (nodes.Count < 2)
        {
            return;
        }

        var ids = await Task.WhenAll(nodes.Select(node => RunIdsAsync(node, timeout, cancellationToken))).ConfigureAwait(false);
        var owner = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
        {
            foreach (var id in ids[i])
            {
                if (owner.TryGetValue(id, out var first) && first != i)
                {
                    throw new ArgumentException(
                        $"Redis nodes {Describe(nodes[first])} and {Describe(nodes[i])} are the same server (run_id {id}); every node " +
                        "must be an independent server, or it would count twice towards the quorum.",
                        paramName);
                }

                owner[id] = i;
            }
        }
    }

    /// <summary>The run_id of every connected server of <paramref name="node"/>; the servers that do not tell are left out.</summary>
    private static async Task<string[]> RunIdsAsync(IConnectionMultiplexer node, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var endpoint in node.GetEndPoints())
        {
            try
            {
                var server = node.GetServer(endpoint);
                if (!server.IsConnected || server.ServerType == ServerType.Sentinel)
                {
                    continue;
                }

                var info = await ServerInfo.ReadAsync(server, "server", timeout, cancellationToken).ConfigureAwait(false);
                if (info.TryGetValue("run_id", out var id) && id.Length > 0)
                {
                    ids.Add(id);
                }
            }
            catch (Exception ex) when (ex is RedisException or RedisCommandException or TimeoutException or ObjectDisposedException)
            {
                // Unknown identity: the endpoint check above is all that applies to this server.
            }
        }

        return [.. ids];
    }

    private static string Describe(IConnectionMultiplexer node) => string.Join(",", node.GetEndPoints().Select(Format));

    /// <summary>Rejects two nodes that share an endpoint: they would count twice towards the quorum.</summary>
    public static void EnsureDistinct(IReadOnlyList<IEnumerable<EndPoint>> nodes, string paramName)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var endpoints in nodes)
        {
            foreach (var endpoint in endpoints)
            {
                var name = Format(endpoint);
                if (!seen.Add(name))
                {
                    throw new ArgumentException(
                        $"Redis endpoint {name} is given twice; every node must be an independent server, or it would count twice towards the quorum.",
                        paramName);
                }
            }
        }
    }

    private static ConfigurationOptions Parse(string configuration, string paramName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration, paramName);
        if (configuration.TrimStart().StartsWith("redis://", StringComparison.OrdinalIgnoreCase)
            || configuration.TrimStart().StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            // The client would read the scheme as a host name, and the error would be a DNS failure.
            throw new ArgumentException(
                "A Redis URL is not a StackExchange.Redis configuration string: write \"host:6379,password=...\" (add ssl=true for rediss://).", paramName);
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            // The client's message names its own parameter ("(Parameter 'x')"): this one names the caller's.
            var own = ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal);
            throw new ArgumentException($"Invalid Redis configuration string: {own}", paramName, ex);
        }

        if (options.EndPoints.Count == 0)
        {
            // Said without its password: exception messages end up in logs.
            throw new ArgumentException($"The Redis configuration '{options.ToString(includePassword: false)}' names no endpoint.", paramName);
        }

        if (PortZero().Match(configuration) is { Success: true } zero)
        {
            // The client reads port 0 as "no port" and connects to 6379: a server that may not be the one meant.
            throw new ArgumentException($"The Redis configuration names port 0 ('{zero.Value.Trim()}'): write the server's port, or leave it out for 6379.", paramName);
        }

        if (RedisHostNames.FirstMalformed(options) is { } host)
        {
            throw new ArgumentException($"The Redis configuration names '{host}' as a server, which is neither host:port nor key=value.", paramName);
        }

        if (options.ConnectTimeout <= 0)
        {
            throw new ArgumentException($"connectTimeout must be a positive number of milliseconds; the Redis configuration has {options.ConnectTimeout}.", paramName);
        }

        return options;
    }

    /// <summary>An endpoint written with port 0 ("host:0"): a word without '=' between commas, ending ":0".</summary>
    [GeneratedRegex(@"(?<=^|,)[^,=]*:0+\s*(?=,|$)")]
    private static partial Regex PortZero();

    /// <summary>"host:port", as typed: a DnsEndPoint prints itself as "Unspecified/host:port".</summary>
    internal static string Format(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        _ => endpoint.ToString() ?? string.Empty,
    };

    /// <summary>Why one node is down, in words, and the error that says so (see <see cref="DiagnoseAsync"/>).</summary>
    /// <param name="options">The node's configuration.</param>
    /// <param name="multiplexer">Its connection, not connected.</param>
    /// <param name="log">Its connect log, as written to.</param>
    /// <param name="text">The connect log's text.</param>
    /// <param name="elapsed">How long the connect took.</param>
    /// <param name="cancellationToken">Stops waiting for a cause.</param>
    private static async Task<(string Text, Exception? Cause)> ReasonAsync(
        ConfigurationOptions options, IConnectionMultiplexer multiplexer, TextWriter log, StringWriter text, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        // (The client's own timer can end a moment before ours reads the full timeout.)
        var timedOut = elapsed * 2 >= TimeSpan.FromMilliseconds(options.ConnectTimeout);

        // A refusal names its cause at once; a server that never answered has none to give, so
        // after a timeout the cause is waited for briefly (longer over TLS, whose handshake
        // errors are recorded late).
        var patience = timedOut ? TimeSpan.FromSeconds(options.Ssl ? 2 : 1) : TimeSpan.FromMilliseconds(options.ConnectTimeout);
        var (failure, cause) = await DiagnoseAsync(multiplexer, log, text, patience, cancellationToken).ConfigureAwait(false);
        if (cause is null)
        {
            return ($"it answered only after the connect timeout ({options.ConnectTimeout} ms): it may have been paused or overloaded", null);
        }

        // A TLS client talking to a plain port waits for a handshake that never comes: say so.
        var tls = options.Ssl && timedOut ? " (ssl=true: does the server speak TLS on this port?)" : string.Empty;
        if (failure.Length == 0 && cause is RedisConnectionException { InnerException: null } && timedOut)
        {
            return ($"no answer within the connect timeout ({options.ConnectTimeout} ms): the server may be paused, overloaded, or not Redis{tls}", cause);
        }

        // The kind the error itself carries where it has one: the log's line may or may not be there.
        return ((Kind(cause) ?? failure) + Innermost(cause) + tls, cause);
    }

    /// <summary>"AuthenticationFailure: ", from the first connection error in the chain that has a kind of its own.</summary>
    private static string? Kind(Exception cause)
    {
        for (var e = cause.InnerException; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException { FailureType: not (ConnectionFailureType.None or ConnectionFailureType.UnableToResolvePhysicalConnection) } connection)
            {
                return connection.FailureType + ": ";
            }
        }

        return null;
    }

    /// <summary>
    /// Why a node is down: the kind of failure from its connect log, and the error of a PING to it.
    /// Either may come late or never: ConnectAsync can return before the failed connection records
    /// its cause (a wrong password's refusal was then missing from the error on a busy machine), and
    /// the client stops writing to the log once ConnectAsync has returned, so the line of a failure
    /// recorded after that never comes. The PING's error is asked again until it carries the cause,
    /// for up to <paramref name="patience"/>; once the log has named a failure, for at most a second
    /// more (the PING's error then says it in the client's own words: "Connection refused").
    /// </summary>
    private static async Task<(string Failure, Exception? Cause)> DiagnoseAsync(IConnectionMultiplexer multiplexer, TextWriter log, StringWriter text, TimeSpan patience, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        long? logged = null;
        while (true)
        {
            var failure = LoggedFailures(Written(log, text)) is [var first, ..] ? first.Kind + ": " : string.Empty;
            logged ??= failure.Length > 0 ? Stopwatch.GetTimestamp() : null;
            var cause = await ProbeAsync(multiplexer).ConfigureAwait(false);
            if (cause is not RedisConnectionException { InnerException: null }
                || (logged is { } at && Stopwatch.GetElapsedTime(at) >= TimeSpan.FromSeconds(1))
                || Stopwatch.GetElapsedTime(started) >= patience)
            {
                return (failure, cause);
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Null once the node's connect has returned; or, when the client has logged that every endpoint
    /// of the node refused the connection and the connect still waits a second later, why, and an error that says it. (When the
    /// refusal comes before the client starts waiting for it, as on a busy machine, the client waits
    /// out the whole connect timeout: 60 s in one test run, for a wrong password.)
    /// </summary>
    private static async Task<(string Text, Exception Cause)?> RefusedWhileWaitingAsync(Task<ConnectionMultiplexer> connecting, TextWriter log, StringWriter text, ConfigurationOptions options, CancellationToken cancellationToken)
    {
        // Only the configured endpoints count (a cluster's other nodes, found while connecting, may be
        // down while these are fine), and only with one connect attempt: with more, a refusal in the
        // log may be an earlier attempt's.
        var configured = options.EndPoints.Select(Format).ToHashSet(StringComparer.OrdinalIgnoreCase);
        long? refusedAt = null;
        while (!connecting.IsCompleted && options.ConnectRetry <= 1)
        {
            var refusals = LoggedFailures(Written(log, text)).Where(f => f.Bridge == "Interactive" && configured.Contains(f.Endpoint)).ToList();
            refusedAt ??= configured.IsSubsetOf(refusals.Select(f => f.Endpoint)) ? Stopwatch.GetTimestamp() : null;
            if (refusedAt is { } at && Stopwatch.GetElapsedTime(at) >= TimeSpan.FromSeconds(1))
            {
                // The client's own error is not at hand: one of its kind stands in, in its words.
                var (_, _, kind, words) = refusals[0];
                var type = Enum.TryParse<ConnectionFailureType>(kind, out var logged) ? logged : ConnectionFailureType.UnableToConnect;
                return ($"{kind}: {words}", new RedisConnectionException(type, CommandFlags.None, words, null, CommandStatus.Unknown));
            }

            await Task.WhenAny(connecting, Task.Delay(50, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return null;
    }

    /// <summary>What the connect log says so far (read under the lock its synchronized writer takes).</summary>
    private static string Written(TextWriter log, StringWriter text)
    {
        lock (log)
        {
            return text.ToString();
        }
    }

    /// <summary>
    /// The failed connections a connect log records, in order: "Connection failed: endpoint (bridge,
    /// kind): ..." and, on the next line, "> " and the error's own words.
    /// </summary>
    private static List<LoggedFailure> LoggedFailures(string log)
    {
        const string Marker = "Connection failed: ";
        var failures = new List<LoggedFailure>();
        var lines = log.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var at = lines[i].IndexOf(Marker, StringComparison.Ordinal);
            var line = at < 0 ? string.Empty : lines[i][(at + Marker.Length)..];
            var open = line.IndexOf(" (", StringComparison.Ordinal);
            var comma = open < 0 ? -1 : line.IndexOf(", ", open, StringComparison.Ordinal);
            var close = comma < 0 ? -1 : line.IndexOf(')', comma);
            if (close < 0)
            {
                continue;
            }

            var next = i + 1 < lines.Length ? lines[i + 1] : string.Empty;
            var quoted = next.IndexOf(": > ", StringComparison.Ordinal);
            var words = quoted < 0 ? "the server refused the connection" : ClientErrorText.WithoutClientState(next[(quoted + 4)..].TrimEnd('\r'));
            failures.Add(new LoggedFailure(line[..open], line[(open + 2)..comma], line[(comma + 2)..close], words));
        }

        return failures;
    }

    /// <summary>One failed connection in a connect log.</summary>
    private readonly record struct LoggedFailure(string Endpoint, string Bridge, string Kind, string Words);

    /// <summary>The message of the innermost exception: the socket's or the TLS stack's own words, without the client's state dump.</summary>
    private static string Innermost(Exception exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(ClientErrorText.WithoutClientState(e.Message));
        }

        // The client's outer error often repeats the innermost one's words: then they are said once.
        return messages.Count == 1 || messages[0].Contains(messages[^1], StringComparison.Ordinal) ? messages[^1] : $"{messages[^1]} ({messages[0]})";
    }

    /// <summary>Asks a disconnected node for a PING: its error carries the reason the node is down, once the client has one.</summary>
    private static async Task<Exception?> ProbeAsync(IConnectionMultiplexer multiplexer)
    {
        try
        {
            await multiplexer.GetDatabase().PingAsync().ConfigureAwait(false);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>Closes connections side by side: closing one whose server hangs takes the client's timeout.</summary>
    internal static Task DisposeAllAsync(IEnumerable<IConnectionMultiplexer> multiplexers) =>
        Task.WhenAll(multiplexers.Select(m => m.DisposeAsync().AsTask()));

    private static async Task DisposeWhenDoneAsync(Task<ConnectionMultiplexer>[] connecting)
    {
        foreach (var task in connecting)
        {
            try
            {
                await (await task.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A connection that never opened has nothing to close.
            }
        }
    }
}
