using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DistLock;

/// <summary>
/// Hands out distributed locks kept in Redis: on one instance (<c>SET NX PX</c>), or on several
/// independent masters with the Redlock quorum. The API is the same for both, and the same as
/// <see cref="InMemoryLockManager"/>'s (see <see cref="LockManager"/>). Thread-safe; create one per
/// application and share it.
/// </summary>
/// <example>
/// <code>
/// await using var locks = await RedisLockManager.ConnectAsync("localhost:6379");
/// await using (var handle = await locks.AcquireAsync("orders:42", TimeSpan.FromSeconds(5)))
/// {
///     // ... critical section ...
/// }
/// </code>
/// </example>
public sealed class RedisLockManager : LockManager
{
    private readonly IConnectionMultiplexer[] _owned;

    /// <summary>A manager over one Redis deployment, on a connection the caller owns.</summary>
    /// <param name="redis">The connection; the manager does not dispose it.</param>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> has an invalid value (see <see cref="LockManagerOptions.Validate()"/>).</exception>
    public RedisLockManager(IConnectionMultiplexer redis, RedisLockManagerOptions? options = null, ILogger? logger = null)
        : this([redis ?? throw new ArgumentNullException(nameof(redis))], options, logger, owned: false)
    {
    }

    /// <summary>
    /// A Redlock manager over several independent Redis masters, on connections the caller owns.
    /// A lock is held when a majority (N/2+1) of them granted it. With one connection this is the
    /// single-instance lock. An even N tolerates no more failed nodes than N-1 does.
    /// </summary>
    /// <param name="nodes">One connection per independent master; the manager does not dispose them.</param>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <remarks>
    /// With several connections, the constructor reads <c>INFO server</c> from every connected
    /// server once, and waits for the answers (each within <see cref="RedisLockManagerOptions.NodeTimeout"/>),
    /// to reject one server reached under two names: servers are told apart by their
    /// <c>run_id</c>, not by how their endpoints are spelled.
    /// </remarks>
    /// <exception cref="ArgumentException">No connection, a null one, two that share an endpoint, or two that reach the same server
    /// (the same <c>run_id</c>, e.g. <c>127.0.0.1:6379</c> and <c>localhost:6379</c>); or <paramref name="options"/>
    /// has an invalid value (see <see cref="LockManagerOptions.Validate()"/>), which is checked before any server is asked.</exception>
    public RedisLockManager(IEnumerable<IConnectionMultiplexer> nodes, RedisLockManagerOptions? options = null, ILogger? logger = null)
        : this(RedisConnector.CheckNodes(nodes, LockManagerOptions.ValidatedCopy(options, nameof(options)).NodeTimeout), options, logger, owned: false)
    {
    }

    private RedisLockManager(IConnectionMultiplexer[] nodes, RedisLockManagerOptions? options, ILogger? logger, bool owned)
    {
        var settings = LockManagerOptions.ValidatedCopy(options, nameof(options));
        var log = logger ?? NullLogger.Instance;
        _owned = owned ? nodes : [];
        var lockNodes = nodes.Select(n => new RedisLockNode(n, settings, quorumMember: nodes.Length > 1)).ToArray();
        Engine = new LockEngine(this, lockNodes, settings, settings.NodeTimeout, settings.ClockDriftFactor, lockNodes.Length == 1 ? "single" : "redlock", log);
        Inspector = new LockInspector(lockNodes, Engine.Keys, settings.NodeTimeout);
        if (!owned)
        {
            // ConnectAsync checks before it returns; a caller's own connections are checked in the background.
            _ = EvictionPolicyCheck.WarnIfEvictingAsync(nodes, log, settings.NodeTimeout);
        }
    }

    /// <summary>How many independent Redis nodes take part in each lock.</summary>
    public int NodeCount => Protocol.Nodes.Count;

    /// <summary>
    /// Connects to one Redis deployment and returns a manager that owns (and disposes) the connection.
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g.
    /// <c>"localhost:6379"</c> or <c>"redis0:6380,password=...,ssl=true"</c>.</param>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <param name="cancellationToken">Stops connecting.</param>
    /// <returns>The connected manager.</returns>
    /// <exception cref="ArgumentException">Thrown by the call itself, before anything connects: the configuration
    /// string is null, empty or blank, cannot be parsed, names no endpoint, names a word that is neither
    /// host:port nor key=value as a server (a typo such as <c>,=x</c>), or has a <c>connectTimeout</c> that is
    /// not positive, or <paramref name="options"/> has an invalid value (see <see cref="LockManagerOptions.Validate()"/>).</exception>
    /// <exception cref="LockBackendException">Redis could not be reached; the cause is inside (through the returned task).</exception>
    public static Task<RedisLockManager> ConnectAsync(
        string configuration, RedisLockManagerOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var settings = LockManagerOptions.ValidatedCopy(options, nameof(options));
        return ConnectCoreAsync(RedisConnector.ParseAll([configuration], nameof(configuration)), settings, logger, cancellationToken);
    }

    /// <summary>
    /// Connects to several independent Redis masters (Redlock) and returns a manager that owns the
    /// connections. Succeeds when a majority is reachable; the others are reconnected in the background.
    /// Every node must be an independent server: the servers reached are told apart by the
    /// <c>run_id</c> of <c>INFO server</c>, so one server given under two names
    /// (<c>127.0.0.1:6379</c> and <c>localhost:6379</c>) is rejected; a node that is down at connect
    /// cannot be compared.
    /// </summary>
    /// <param name="configurations">One StackExchange.Redis configuration string per master.</param>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <param name="cancellationToken">Stops connecting.</param>
    /// <returns>The connected manager.</returns>
    /// <exception cref="ArgumentException">Thrown by the call itself, before anything connects: no configuration,
    /// a null, empty or blank one, one that cannot be parsed, names no endpoint, names a word that is neither
    /// host:port nor key=value as a server, or has a <c>connectTimeout</c> that is not positive, an endpoint given twice, or <paramref name="options"/> has an invalid value (see
    /// <see cref="LockManagerOptions.Validate()"/>). Through the returned task: two configurations that reach the
    /// same server (the same <c>run_id</c>).</exception>
    /// <exception cref="LockBackendException">Fewer than a majority of the nodes could be reached (through the returned task); the
    /// message gives each unreachable node's reason.</exception>
    public static Task<RedisLockManager> ConnectAsync(
        IEnumerable<string> configurations, RedisLockManagerOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        // Argument errors are the caller's bug: thrown here, as by the string overload, not hidden in a faulted task.
        ArgumentNullException.ThrowIfNull(configurations);
        var list = configurations.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("At least one Redis configuration is needed.", nameof(configurations));
        }

        if (list.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("A Redis configuration string is null, empty or blank.", nameof(configurations));
        }

        var settings = LockManagerOptions.ValidatedCopy(options, nameof(options));
        return ConnectCoreAsync(RedisConnector.ParseAll(list, nameof(configurations)), settings, logger, cancellationToken);
    }

    private static async Task<RedisLockManager> ConnectCoreAsync(
        StackExchange.Redis.ConfigurationOptions[] configurations, RedisLockManagerOptions settings, ILogger? logger, CancellationToken cancellationToken)
    {
        var multiplexers = await RedisConnector
            .ConnectAsync(configurations, settings.NodeTimeout, LockValidity.QuorumSize(configurations.Length), cancellationToken)
            .ConfigureAwait(false);
        try
        {
            await EvictionPolicyCheck
                .WarnIfEvictingAsync(multiplexers, logger ?? NullLogger.Instance, settings.NodeTimeout, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await RedisConnector.DisposeAllAsync(multiplexers).ConfigureAwait(false);
            throw;
        }

        return new RedisLockManager(multiplexers, settings, logger, owned: true);
    }

    private protected override async ValueTask OnClosedAsync() =>
        await RedisConnector.DisposeAllAsync(_owned).ConfigureAwait(false);
}
