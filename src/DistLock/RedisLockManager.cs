using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DistLock;

/// <summary>
/// Hands out distributed locks kept in Redis: on one instance (<c>SET NX PX</c>), or on several
/// independent masters with the Redlock quorum. The API is the same for both. Thread-safe;
/// create one per application and share it.
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
public sealed class RedisLockManager : ILockManager, IDisposable
{
    private readonly LockEngine _engine;
    private readonly IConnectionMultiplexer[] _owned;
    private readonly LockInspector _inspector;

    /// <summary>A manager over one Redis deployment, on a connection the caller owns.</summary>
    /// <param name="redis">The connection; the manager does not dispose it.</param>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> has an invalid value (see <see cref="LockOptions.Validate()"/>).</exception>
    public RedisLockManager(IConnectionMultiplexer redis, LockOptions? options = null, ILogger? logger = null)
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
    /// server once, and waits for the answers (each within <see cref="LockOptions.NodeTimeout"/>),
    /// to reject one server reached under two names: servers are told apart by their
    /// <c>run_id</c>, not by how their endpoints are spelled.
    /// </remarks>
    /// <exception cref="ArgumentException">No connection, a null one, two that share an endpoint, or two that reach the same server
    /// (the same <c>run_id</c>, e.g. <c>127.0.0.1:6379</c> and <c>localhost:6379</c>); or <paramref name="options"/>
    /// has an invalid value (see <see cref="LockOptions.Validate()"/>), which is checked before any server is asked.</exception>
    public RedisLockManager(IEnumerable<IConnectionMultiplexer> nodes, LockOptions? options = null, ILogger? logger = null)
        : this(RedisConnector.CheckNodes(nodes, LockOptions.ValidatedCopy(options, nameof(options)).NodeTimeout), options, logger, owned: false)
    {
    }

    private RedisLockManager(IConnectionMultiplexer[] nodes, LockOptions? options, ILogger? logger, bool owned)
    {
        var settings = LockOptions.ValidatedCopy(options, nameof(options));
        var log = logger ?? NullLogger.Instance;
        _owned = owned ? nodes : [];
        var lockNodes = nodes.Select(n => new RedisLockNode(n, settings, quorumMember: nodes.Length > 1)).ToArray();
        _engine = new LockEngine(this, lockNodes, settings, lockNodes.Length == 1 ? "single" : "redlock", log);
        _inspector = new LockInspector(lockNodes, _engine.Keys, settings.NodeTimeout);
        if (!owned)
        {
            // ConnectAsync checks before it returns; a caller's own connections are checked in the background.
            _ = EvictionPolicyCheck.WarnIfEvictingAsync(nodes, log, settings.NodeTimeout);
        }
    }

    /// <summary>How many independent Redis nodes take part in each lock.</summary>
    public int NodeCount => Protocol.Nodes.Count;

    internal RedlockProtocol Protocol => _engine.Protocol;

    internal WaitQueues Waiters => _engine.Waiters;

    internal LeaseKeeper Leases => _engine.Leases;

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
    /// string is null, empty or blank, or <paramref name="options"/> has an invalid value (see
    /// <see cref="LockOptions.Validate()"/>). A string that cannot be parsed fails the returned task.</exception>
    /// <exception cref="LockBackendException">Redis could not be reached; the cause is inside (through the returned task).</exception>
    public static Task<RedisLockManager> ConnectAsync(
        string configuration, LockOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var settings = LockOptions.ValidatedCopy(options, nameof(options));
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
    /// a null, empty or blank one, or <paramref name="options"/> has an invalid value (see
    /// <see cref="LockOptions.Validate()"/>). Through the returned task: a configuration that cannot be
    /// parsed, an endpoint given twice, or two that reach the same server (the same <c>run_id</c>).</exception>
    /// <exception cref="LockBackendException">Fewer than a majority of the nodes could be reached (through the returned task).</exception>
    public static Task<RedisLockManager> ConnectAsync(
        IEnumerable<string> configurations, LockOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
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

        var settings = LockOptions.ValidatedCopy(options, nameof(options));
        return ConnectCoreAsync(RedisConnector.ParseAll(list, nameof(configurations)), settings, logger, cancellationToken);
    }

    private static async Task<RedisLockManager> ConnectCoreAsync(
        StackExchange.Redis.ConfigurationOptions[] configurations, LockOptions settings, ILogger? logger, CancellationToken cancellationToken)
    {
        var multiplexers = await RedisConnector
            .ConnectAsync(configurations, settings.NodeTimeout, LockValidity.QuorumSize(configurations.Length), cancellationToken)
            .ConfigureAwait(false);
        await EvictionPolicyCheck
            .WarnIfEvictingAsync(multiplexers, logger ?? NullLogger.Instance, settings.NodeTimeout)
            .ConfigureAwait(false);
        return new RedisLockManager(multiplexers, settings, logger, owned: true);
    }

    /// <summary>
    /// Waits until the lock on <paramref name="resource"/> is acquired (dist-lock <c>acquire</c>).
    /// Never blocks a thread while waiting.
    /// </summary>
    /// <param name="resource">The name of the shared resource (not empty, at most 1024 UTF-8 bytes).</param>
    /// <param name="timeout">How long to wait; null uses <see cref="LockOptions.DefaultWaitTimeout"/>;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits forever, and so does a timeout longer than about
    /// 49.7 days (<see cref="TimeSpan.MaxValue"/> included). An attempt already sent may finish up to
    /// <see cref="LockOptions.NodeTimeout"/> later.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock.</returns>
    /// <exception cref="ArgumentException">Bad resource name or negative timeout.</exception>
    /// <exception cref="LockTimeoutException">Still held by someone else at the timeout, or <see cref="LockOptions.MaxRetries"/> ran out.</exception>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) failed or did not answer in time.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public Task<LockHandle> AcquireAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        return AcquireAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);
    }

    /// <summary>Waits until the lock is acquired, with per-call TTL, value or timeout.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock.</returns>
    /// <exception cref="LockTimeoutException">Still held by someone else at the timeout, or retries ran out.</exception>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) failed or did not answer in time.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public Task<LockHandle> AcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Exclusive, 0, cancellationToken);

    /// <summary>
    /// Tries to acquire the lock; returns null when someone else holds it. With the default
    /// <paramref name="timeout"/> of zero it makes exactly one attempt (python-redis-lock's
    /// <c>acquire(blocking=False)</c>).
    /// </summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying; zero tries once; <see cref="Timeout.InfiniteTimeSpan"/>
    /// (or a timeout longer than about 49.7 days) waits forever.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock, or null when it is held by someone else.</returns>
    /// <exception cref="LockBackendException">Redis failed: an outage is never reported as null.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public Task<LockHandle?> TryAcquireAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        return TryAcquireAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);
    }

    /// <summary>Tries to acquire the lock with per-call TTL, value or timeout (default: one attempt).</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="cancellationToken">Stops waiting; nothing stays locked.</param>
    /// <returns>The held lock, or null when it is held by someone else.</returns>
    /// <exception cref="LockBackendException">Redis failed: an outage is never reported as null.</exception>
    public Task<LockHandle?> TryAcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Exclusive, 0, cancellationToken);

    /// <summary>Blocking form of <see cref="AcquireAsync(string, TimeSpan?, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses <see cref="LockOptions.DefaultWaitTimeout"/>.</param>
    /// <returns>The held lock.</returns>
    public LockHandle Acquire(string resource, TimeSpan? timeout = null) =>
        AcquireAsync(resource, timeout).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="TryAcquireAsync(string, TimeSpan, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <returns>The held lock, or null when it is held by someone else.</returns>
    public LockHandle? TryAcquire(string resource, TimeSpan timeout = default) =>
        TryAcquireAsync(resource, timeout).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task<LockHandle> AcquireReadAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireReadAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Read, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireReadAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireReadAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Read, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireWriteAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireWriteAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Write, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireWriteAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireWriteAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Write, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireSemaphoreAsync(string resource, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireSemaphoreAsync(LockRequest.WithTimeout(resource, timeout), maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Semaphore, maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireSemaphoreAsync(string resource, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireSemaphoreAsync(LockRequest.WithTimeout(resource, timeout), maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Semaphore, maxCount, cancellationToken);

    /// <summary>Blocking form of <see cref="AcquireReadAsync(string, TimeSpan?, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses <see cref="LockOptions.DefaultWaitTimeout"/>.</param>
    /// <returns>The held read lock.</returns>
    public LockHandle AcquireRead(string resource, TimeSpan? timeout = null) =>
        AcquireReadAsync(resource, timeout).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="TryAcquireReadAsync(string, TimeSpan, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <returns>The held read lock, or null.</returns>
    public LockHandle? TryAcquireRead(string resource, TimeSpan timeout = default) =>
        TryAcquireReadAsync(resource, timeout).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="AcquireWriteAsync(string, TimeSpan?, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to wait; null uses <see cref="LockOptions.DefaultWaitTimeout"/>.</param>
    /// <returns>The held write lock.</returns>
    public LockHandle AcquireWrite(string resource, TimeSpan? timeout = null) =>
        AcquireWriteAsync(resource, timeout).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="TryAcquireWriteAsync(string, TimeSpan, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the shared resource.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <returns>The held write lock, or null.</returns>
    public LockHandle? TryAcquireWrite(string resource, TimeSpan timeout = default) =>
        TryAcquireWriteAsync(resource, timeout).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="AcquireSemaphoreAsync(string, int, TimeSpan?, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the semaphore.</param>
    /// <param name="maxCount">How many may hold the semaphore at once.</param>
    /// <param name="timeout">How long to wait; null uses <see cref="LockOptions.DefaultWaitTimeout"/>.</param>
    /// <returns>The held permit.</returns>
    public LockHandle AcquireSemaphore(string resource, int maxCount, TimeSpan? timeout = null) =>
        AcquireSemaphoreAsync(resource, maxCount, timeout).GetAwaiter().GetResult();

    /// <summary>Blocking form of <see cref="TryAcquireSemaphoreAsync(string, int, TimeSpan, CancellationToken)"/>: it blocks the calling thread.</summary>
    /// <param name="resource">The name of the semaphore.</param>
    /// <param name="maxCount">How many may hold the semaphore at once.</param>
    /// <param name="timeout">How long to keep trying; zero tries once.</param>
    /// <returns>The held permit, or null.</returns>
    public LockHandle? TryAcquireSemaphore(string resource, int maxCount, TimeSpan timeout = default) =>
        TryAcquireSemaphoreAsync(resource, maxCount, timeout).GetAwaiter().GetResult();

    /// <summary>Releases a lock this manager handed out (Redis::DistLock <c>release</c>); same as <see cref="LockHandle.ReleaseAsync"/>.</summary>
    /// <param name="handle">A handle from this manager.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>True when this call released the lock.</returns>
    /// <exception cref="ArgumentException">The handle belongs to another manager.</exception>
    public Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken = default) =>
        _engine.ReleaseAsync(handle, cancellationToken);

    /// <summary>Sends PING to every node, each bounded by <see cref="LockOptions.NodeTimeout"/>; for health checks.</summary>
    /// <param name="cancellationToken">Stops waiting for the answers.</param>
    /// <returns>How many nodes there are and how many answered.</returns>
    public Task<QuorumStatus> CheckNodesAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _inspector.PingAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the lock on <paramref name="resource"/> as Redis has it now: holder value, remaining
    /// TTL, fencing counter, waiters. For tools; it changes nothing.
    /// </summary>
    /// <param name="resource">The resource name.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>The lock's state; <see cref="LockInfo.HolderId"/> is null when it is free.</returns>
    /// <exception cref="LockBackendException">Too few nodes answered.</exception>
    public Task<LockInfo> InspectAsync(string resource, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        ThrowIfDisposed();
        return _inspector.InspectAsync(resource, cancellationToken);
    }

    /// <summary>
    /// Reads the semaphore <paramref name="resource"/> as Redis has it now: its maxCount, its live
    /// holders with their remaining TTL, the permits being handed to woken waiters, the line of
    /// waiters and the fencing counter. For tools; it changes nothing.
    /// </summary>
    /// <param name="resource">The semaphore's name (as passed to <see cref="AcquireSemaphoreAsync(string, int, TimeSpan?, CancellationToken)"/>).</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>The semaphore's state; <see cref="SemaphoreInfo.Holders"/> is empty when nobody holds it.</returns>
    /// <exception cref="NotSupportedException">The manager has several independent nodes (Redlock), where semaphores are not supported.</exception>
    /// <exception cref="LockBackendException">The node did not answer.</exception>
    public Task<SemaphoreInfo> InspectSemaphoreAsync(string resource, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        ThrowIfDisposed();
        return _inspector.InspectSemaphoreAsync(resource, cancellationToken);
    }

    /// <summary>
    /// Lists the locks that exist now (held, or being handed to a waiter) whose resource matches
    /// the glob <paramref name="pattern"/>, using SCAN on every node (never KEYS).
    /// </summary>
    /// <param name="pattern">A Redis glob over resource names (<c>*</c>, <c>?</c>, <c>[abc]</c>); <c>*</c> lists all.</param>
    /// <param name="cancellationToken">Stops the listing.</param>
    /// <returns>Each lock once.</returns>
    public IAsyncEnumerable<LockInfo> ListAsync(string pattern = "*", CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ThrowIfDisposed();
        return _inspector.ListAsync(pattern, cancellationToken);
    }

    /// <summary>
    /// Deletes the lock on <paramref name="resource"/> whoever holds it, and wakes the next waiter.
    /// For operators clearing a stuck lock: the holder is not asked; its next extension is refused
    /// and its <see cref="LockHandle.LostToken"/> fires. Never needed in normal use.
    /// </summary>
    /// <param name="resource">The resource name.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>True when a lock key was deleted on some node.</returns>
    /// <exception cref="LockBackendException">Too few nodes answered.</exception>
    public Task<bool> ForceReleaseAsync(string resource, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        ThrowIfDisposed();
        return _inspector.ForceReleaseAsync(resource, cancellationToken);
    }

    /// <summary>
    /// Frees permits of the semaphore <paramref name="resource"/> whoever holds them: the permit of
    /// <paramref name="holderId"/> (a <see cref="SemaphoreHolder.HolderId"/> that
    /// <see cref="InspectSemaphoreAsync"/> shows), or every holder's when it is null; then wakes
    /// one waiter per permit freed. For operators clearing a stuck holder: the holder is not asked;
    /// its next extension is refused and its <see cref="LockHandle.LostToken"/> fires. Permits
    /// being handed to woken waiters are left to them. Never needed in normal use.
    /// </summary>
    /// <param name="resource">The semaphore's name.</param>
    /// <param name="holderId">The holder whose permit to free, or null for every holder.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>How many permits were freed (0 when the holder, or every holder, was gone already).</returns>
    /// <exception cref="ArgumentException"><paramref name="holderId"/> is empty, white space, or names a permit being handed to a waiter.</exception>
    /// <exception cref="NotSupportedException">The manager has several independent nodes (Redlock), where semaphores are not supported.</exception>
    /// <exception cref="LockBackendException">The node did not answer.</exception>
    public Task<int> ForceReleaseSemaphoreAsync(string resource, string? holderId = null, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        if (holderId is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(holderId);
            if (holderId.StartsWith(LockKeyLayout.ReservedPrefix, StringComparison.Ordinal))
            {
                // No holder's id starts so (LockRequest.Id refuses it): it names a permit being handed to a woken waiter.
                throw new ArgumentException($"A holder id never starts with '{LockKeyLayout.ReservedPrefix}': that is a permit being handed to a waiter, which a force release leaves alone.", nameof(holderId));
            }
        }

        ThrowIfDisposed();
        return _inspector.ForceReleaseSemaphoreAsync(resource, holderId, cancellationToken);
    }

    /// <summary>
    /// Stops handing out locks (calls still waiting for one end with <see cref="ObjectDisposedException"/>),
    /// releases the ones still held when <see cref="LockOptions.AutoReleaseOnDispose"/>
    /// is set, and closes the connections the manager opened itself. Never throws.
    /// </summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!await _engine.CloseAsync().ConfigureAwait(false))
        {
            return;
        }

        foreach (var connection in _owned)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Blocking form of <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void ThrowIfDisposed() => _engine.ThrowIfDisposed();
}
