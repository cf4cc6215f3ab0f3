using System.Globalization;
using System.Net;
using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>Opens the connections of a manager that owns them.</summary>
internal static class RedisConnector
{
    /// <summary>
    /// Parses every configuration first (so a typo fails before anything connects), then connects
    /// to all nodes in parallel. A node that is down does not stop the others: StackExchange.Redis
    /// keeps reconnecting it. Fewer connected nodes than a majority is an error.
    /// </summary>
    public static async Task<IConnectionMultiplexer[]> ConnectAsync(IReadOnlyList<string> configurations, CancellationToken cancellationToken)
    {
        var parsed = new ConfigurationOptions[configurations.Count];
        for (var i = 0; i < parsed.Length; i++)
        {
            parsed[i] = Parse(configurations[i]);

            // Commands sent while a node is disconnected fail at once instead of waiting in a
            // backlog, where an acquire could land long after the caller gave up on it.
            parsed[i].AbortOnConnectFail = false;
            parsed[i].BacklogPolicy = BacklogPolicy.FailFast;
        }

        EnsureDistinct(parsed.Select(p => (IEnumerable<EndPoint>)p.EndPoints).ToList(), "configurations");

        // The connect log names the kind of failure (AuthenticationFailure for a TLS certificate or a
        // password refused, UnableToConnect, ...), which a later probe may no longer see.
        // TextWriter.Synchronized's wrapper does not pass ToString on, so the text is read from the
        // StringWriter itself, under the lock the wrapper takes (it locks itself).
        var texts = parsed.Select(_ => new StringWriter(CultureInfo.InvariantCulture)).ToArray();
        var logs = texts.Select(TextWriter.Synchronized).ToArray();
        var connecting = parsed.Select((p, i) => ConnectionMultiplexer.ConnectAsync(p, logs[i])).ToArray();
        IConnectionMultiplexer[] multiplexers;
        try
        {
            multiplexers = await Task.WhenAll(connecting).WaitAsync(cancellationToken).ConfigureAwait(false);
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

        var down = multiplexers.Where(m => !m.IsConnected).ToList();
        if (multiplexers.Length - down.Count < LockValidity.QuorumSize(multiplexers.Length))
        {
            var cause = await ProbeAsync(down[0]).ConfigureAwait(false);
            var index = Array.IndexOf(multiplexers, down[0]);
            var failure = await FirstFailureAsync(logs[index], texts[index]).ConfigureAwait(false);
            foreach (var multiplexer in multiplexers)
            {
                await multiplexer.DisposeAsync().ConfigureAwait(false);
            }

            var names = string.Join("; ", down.Select(m => string.Join(",", m.GetEndPoints().Select(e => e.ToString()))));
            throw new LockBackendException(
                $"Could not connect to Redis at {names} ({down.Count} of {multiplexers.Length} node(s) down): {failure}{Innermost(cause)}", cause);
        }

        return multiplexers;
    }

    /// <summary>Validates the connections a caller hands to a manager.</summary>
    public static IConnectionMultiplexer[] CheckNodes(IEnumerable<IConnectionMultiplexer> nodes)
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
        return list;
    }

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

    private static ConfigurationOptions Parse(string configuration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration, nameof(configuration));
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"Invalid Redis configuration string: {ex.Message}", "configurations", ex);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new ArgumentException($"The Redis configuration '{configuration}' names no endpoint.", "configurations");
        }

        return options;
    }

    private static string Format(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        _ => endpoint.ToString() ?? string.Empty,
    };

    /// <summary>
    /// The kind of the first failure in a connect log. ConnectAsync can return before the failed
    /// connection has written its line (a refused TLS handshake once gave an error without its
    /// cause, 0.4 s into a 5 s connect timeout), so an empty answer is asked again for up to 1 s.
    /// </summary>
    private static async Task<string> FirstFailureAsync(TextWriter log, StringWriter text)
    {
        for (var waited = 0; ; waited += 50)
        {
            string written;
            lock (log)
            {
                written = text.ToString();
            }

            var failure = FirstFailure(written);
            if (failure.Length > 0 || waited >= 1000)
            {
                return failure;
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>"AuthenticationFailure: " from the first "Connection failed: endpoint (bridge, kind)" line of a connect log.</summary>
    private static string FirstFailure(string log)
    {
        const string Marker = "Connection failed: ";
        var at = log.IndexOf(Marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return string.Empty;
        }

        var open = log.IndexOf('(', at);
        var close = open < 0 ? -1 : log.IndexOf(')', open);
        var comma = open < 0 ? -1 : log.IndexOf(", ", open, StringComparison.Ordinal);
        return comma > 0 && comma < close ? log[(comma + 2)..close] + ": " : string.Empty;
    }

    /// <summary>The message of the innermost exception: the socket's or the TLS stack's own words.</summary>
    private static string Innermost(Exception? exception)
    {
        if (exception is null)
        {
            return "no answer";
        }

        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        return messages.Count == 1 ? messages[0] : $"{messages[^1]} ({messages[0]})";
    }

    /// <summary>Asks a disconnected node for a PING, to surface the reason it is down.</summary>
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
