using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistLock;

/// <summary>
/// The container's one connection to Redis, opened in the background on first use (or by
/// <see cref="DistLockWarmup"/> at start-up) and never on a request thread. Every node is connected
/// with <c>AbortOnConnectFail=false</c>: a Redis that is down yields a multiplexer that keeps
/// reconnecting by itself, so an outage at start-up is an outage like any other, not a broken
/// singleton, and the application recovers when Redis comes back.
/// </summary>
internal sealed class DistLockConnection : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<(RedisLockManager Manager, IConnectionMultiplexer[] Owned)>> _connect;
    private readonly Lock _gate = new();
    private Task<(RedisLockManager Manager, IConnectionMultiplexer[] Owned)>? _connecting;
    private bool _disposed;

    private DistLockConnection(string endpoints, Func<CancellationToken, Task<(RedisLockManager, IConnectionMultiplexer[])>> connect)
    {
        Endpoints = endpoints;
        _connect = connect;
    }

    /// <summary>The Redis endpoints, for messages.</summary>
    public string Endpoints { get; }

    /// <summary>Connects to <paramref name="configurations"/> (one per Redlock node), owning the connections.</summary>
    public static DistLockConnection ForConfigurations(IReadOnlyList<string> configurations, RedisLockManagerOptions options, ILogger? logger)
    {
        var parsed = configurations.Select(c =>
        {
            var parsedOptions = ConfigurationOptions.Parse(c);

            // Fail commands at once while a node is down rather than queueing them (as the core's
            // ConnectAsync does), and never give up connecting: recovery is StackExchange.Redis's job.
            parsedOptions.AbortOnConnectFail = false;
            parsedOptions.BacklogPolicy = BacklogPolicy.FailFast;

            // One connect attempt, so that the first one (which resolving RedisLockManager waits for)
            // lasts at most the connect timeout: StackExchange.Redis otherwise tries a server that
            // accepts the connection but does not answer connectRetry (3) times, the whole timeout
            // each (measured: 6 s for a paused server with connectTimeout=2000). With
            // AbortOnConnectFail=false it keeps reconnecting in the background either way.
            if (!c.Contains("connectRetry", StringComparison.OrdinalIgnoreCase))
            {
                parsedOptions.ConnectRetry = 1;
            }

            return parsedOptions;
        }).ToArray();
        var endpoints = string.Join("; ", parsed.Select(p => string.Join(",", p.EndPoints.Select(e => e.ToString()))));
        return new DistLockConnection(endpoints, async cancellationToken =>
        {
            var multiplexers = await Task.WhenAll(parsed.Select(p => ConnectionMultiplexer.ConnectAsync(p))).ConfigureAwait(false);
            return (new RedisLockManager(multiplexers, options, logger), multiplexers);
        });
    }

    /// <summary>Uses a connection the container already has (and does not dispose it).</summary>
    public static DistLockConnection ForMultiplexer(IConnectionMultiplexer multiplexer, RedisLockManagerOptions options, ILogger? logger) =>
        new(string.Join(",", multiplexer.GetEndPoints().Select(e => e.ToString())),
            _ => Task.FromResult((new RedisLockManager(multiplexer, options, logger), Array.Empty<IConnectionMultiplexer>())));

    /// <summary>Starts connecting if nothing has started yet (or the last try failed); never blocks.</summary>
    public Task<RedisLockManager> StartAsync()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                // Task.Run: StackExchange.Redis does a little synchronous work before its first await.
                _connecting = Task.Run(() => _connect(CancellationToken.None));
            }

            return Unwrap(_connecting);
        }
    }

    /// <summary>
    /// The manager, waiting for the first connect attempt at most <paramref name="patience"/>.
    /// A Redis that is not there is DistLock's outage exception, never a hang or a raw client error.
    /// </summary>
    public async Task<RedisLockManager> GetAsync(TimeSpan patience, CancellationToken cancellationToken)
    {
        var connecting = StartAsync();
        try
        {
            return await connecting.WaitAsync(patience, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new LockBackendException($"Redis at {Endpoints} is not connected yet (still connecting after {patience.TotalMilliseconds:0} ms).", ex);
        }
        catch (Exception ex) when (ex is RedisException or InvalidOperationException or System.Net.Sockets.SocketException or ArgumentException)
        {
            // ArgumentException: the nodes answered as one server under two names, which only connecting shows.
            throw new LockBackendException($"Could not connect to Redis at {Endpoints}: {ex.Message}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<(RedisLockManager Manager, IConnectionMultiplexer[] Owned)>? connecting;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            connecting = _connecting;
        }

        if (connecting is null)
        {
            return;
        }

        try
        {
            var (manager, owned) = await connecting.ConfigureAwait(false);
            await manager.DisposeAsync().ConfigureAwait(false);
            foreach (var multiplexer in owned)
            {
                await multiplexer.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisException or InvalidOperationException or System.Net.Sockets.SocketException or ArgumentException)
        {
            // It never connected (or its nodes were one server under two names): there is nothing to close.
        }
    }

    private static async Task<RedisLockManager> Unwrap(Task<(RedisLockManager Manager, IConnectionMultiplexer[] Owned)> connecting) =>
        (await connecting.ConfigureAwait(false)).Manager;
}
