using System.Collections.Concurrent;
using System.Diagnostics;
using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Logging;

namespace DistLock;

/// <summary>
/// What every manager does with its nodes, whatever they are (Redis, or in process): acquire with
/// waiting, hand out handles with leases, release, measure, and close. The public managers add
/// how they connect.
/// </summary>
internal sealed class LockEngine
{
    private readonly LockManagerOptions _options;
    private readonly LockKeyLayout _keys;
    private readonly double _clockDriftFactor;
    private readonly TimeSpan _nodeTimeout;
    private readonly AcquireLoop _loop;
    private readonly LeaseContext _leaseContext;
    private readonly ConcurrentDictionary<LockHandle, byte> _held = new();

    private readonly object _owner;
    private int _closing;

    // Cancelled when the manager closes, so that callers still waiting for a lock end at once.
    private readonly CancellationTokenSource _closed = new();
    private int _disposed;

    /// <param name="owner">The public manager, for ownership checks and ObjectDisposedException.</param>
    /// <param name="nodes">The nodes, already built.</param>
    /// <param name="options">The manager's own copy of the settings.</param>
    /// <param name="nodeTimeout">How long one node may take to answer one command.</param>
    /// <param name="clockDriftFactor">The share of the TTL set aside for clock drift (0 in process).</param>
    /// <param name="mode">The metrics' mode tag.</param>
    /// <param name="logger">Where to log.</param>
    public LockEngine(object owner, IReadOnlyList<ILockNode> nodes, LockManagerOptions options, TimeSpan nodeTimeout, double clockDriftFactor, string mode, ILogger logger)
    {
        _owner = owner;
        _options = options;
        Logger = logger;
        _keys = new LockKeyLayout(options.KeyPrefix);
        _clockDriftFactor = clockDriftFactor;
        _nodeTimeout = nodeTimeout;
        Protocol = new RedlockProtocol(nodes, nodeTimeout, clockDriftFactor, options.TimeProvider, logger);
        Waiters = new WaitQueues(nodes, nodeTimeout, options.TimeProvider);
        _loop = new AcquireLoop(Protocol, Waiters, options.Defaults.RetryDelay, options.HandoffGrace, options.Defaults.MaxRetries, logger);
        Leases = new LeaseKeeper(options.TimeProvider);
        Metrics = new LockMetrics(LockTelemetry.MeterFrom(options.MeterFactory), mode);
        _leaseContext = new LeaseContext(Protocol, Leases, logger, Metrics);
    }

    public object Owner => _owner;

    public LockManagerOptions Options => _options;

    public LockKeyLayout Keys => _keys;

    public RedlockProtocol Protocol { get; }

    public ILogger Logger { get; }

    public WaitQueues Waiters { get; }

    public LeaseKeeper Leases { get; }

    public LockMetrics Metrics { get; }

    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, _owner);

    /// <summary>Waits for the lock in <paramref name="mode"/>; throws <see cref="LockTimeoutException"/> at the timeout.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="mode">The kind of lock.</param>
    /// <param name="maxCount">For a semaphore: how many may hold it at once; ignored otherwise.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<LockHandle> AcquireAsync(LockRequest request, LockMode mode, int maxCount, CancellationToken cancellationToken)
    {
        var hold = HoldOf(request, mode, maxCount);
        var timeout = request.Timeout ?? _options.Defaults.Timeout;
        return AcquireCoreAsync(request, hold, timeout, throwWhenBusy: true, cancellationToken)!;
    }

    /// <summary>Tries the lock in <paramref name="mode"/>; null when still busy at the timeout.</summary>
    /// <param name="request">What to lock, and how.</param>
    /// <param name="mode">The kind of lock.</param>
    /// <param name="maxCount">For a semaphore: how many may hold it at once; ignored otherwise.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<LockHandle?> TryAcquireAsync(LockRequest request, LockMode mode, int maxCount, CancellationToken cancellationToken)
    {
        var hold = HoldOf(request, mode, maxCount);
        var timeout = request.Timeout ?? TimeSpan.Zero;
        return AcquireCoreAsync(request, hold, timeout, throwWhenBusy: false, cancellationToken);
    }

    /// <summary>Checks what the call itself must reject, before anything is sent, and names the hold.</summary>
    private Hold HoldOf(LockRequest request, LockMode mode, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Resources.Count > 1)
        {
            return mode == LockMode.Exclusive
                ? new MultiHold(request.Resources.Select(_keys.LockKey))
                : throw new NotSupportedException(
                    "A set of resources is taken with exclusive locks (AcquireAllAsync); read locks and semaphores are taken one resource at a time.");
        }

        if (mode == LockMode.Read)
        {
            return new ReadHold(_keys.LockKey(request.Resource));
        }

        if (mode != LockMode.Semaphore)
        {
            return new LockHold(_keys.LockKey(request.Resource), mode);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1, nameof(maxCount));
        if (Protocol.Nodes.Count > 1)
        {
            throw new NotSupportedException(
                "Semaphores need one Redis deployment (a single server, Sentinel or a cluster): over several independent " +
                "masters (Redlock) a count kept per node does not bound the holders. See docs/redlock.md.");
        }

        return new SemaphoreHold(_keys.SemaphoreKey(request.Resource), maxCount);
    }

    public Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!ReferenceEquals(handle.Engine, this))
        {
            var issuer = handle.Engine.Owner.GetType().Name;
            var other = issuer == _owner.GetType().Name ? "another" : "an";
            throw new ArgumentException($"The lock handle was issued by {other} {issuer}, not this {_owner.GetType().Name}: release it with the manager that acquired it.", nameof(handle));
        }

        return handle.ReleaseAsync(cancellationToken);
    }

    /// <summary>Stops handing out locks; releases or loses the held ones. Returns false when already closing.</summary>
    public async ValueTask<bool> CloseAsync()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return false;
        }

        await _closed.CancelAsync().ConfigureAwait(false);

        // Waiters end at once, but clean up first: they leave their lines and give back what a set
        // kept (Redis Cluster). Done on a connection that closes meanwhile, that would stay held
        // until its TTL. Each step of a clean-up is bounded by the node timeout: a leave, then a release.
        await _loop.InFlight.WhenIdleAsync(2 * _nodeTimeout, _options.TimeProvider).ConfigureAwait(false);

        if (_options.AutoReleaseOnDispose)
        {
            await Task.WhenAll(_held.Keys.Select(h => h.DisposeAsync().AsTask())).ConfigureAwait(false);
        }

        foreach (var lease in Leases.Close())
        {
            lease.MarkLost(LostReason.Disposed);
        }

        await Waiters.CloseIdleAsync().ConfigureAwait(false);

        Volatile.Write(ref _disposed, 1);
        return true;
    }

    public async Task<bool> ReleaseCoreAsync(LockHandle handle)
    {
        using var activity = Metrics.Start("release", handle.Resource);
        bool released;
        try
        {
            released = await _loop.ReleaseAsync(handle.Lease.Hold, handle.HolderId, handle.LateGrants).ConfigureAwait(false);
        }
        catch (LockBackendException ex)
        {
            Metrics.ReleaseFailed();
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }

        activity?.SetTag("distlock.outcome", released ? "released" : "not-held");
        if (_options.AutoReleaseOnDispose)
        {
            _held.TryRemove(handle, out _);
        }

        return released;
    }

    /// <summary>
    /// Counted in flight from before the closing check to its end, clean-up included (see
    /// <see cref="CloseAsync"/>): closing either finds it counted, or it finds the manager closing.
    /// </summary>
    private async Task<LockHandle?> AcquireCoreAsync(LockRequest request, Hold hold, TimeSpan timeout, bool throwWhenBusy, CancellationToken cancellationToken)
    {
        _loop.InFlight.Enter();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _closing) == 1, _owner);
            var ttl = request.Ttl ?? _options.Defaults.Ttl;
            var id = request.HolderId ?? NewLockId(_options);
            using var activity = Metrics.Start("acquire", request.Resource);
            var started = _options.TimeProvider.GetTimestamp();
            AcquireOutcome outcome;
            try
            {
                outcome = await _loop.RunAsync(hold, id, ttl, timeout, cancellationToken, _closed.Token, request.MaxRetries).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (_closed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The manager was disposed while this caller waited: nothing will ever be handed out.
                Metrics.AcquireFailed(_options.TimeProvider.GetElapsedTime(started), "disposed");
                activity?.SetTag("distlock.outcome", "disposed");
                throw new ObjectDisposedException(_owner.GetType().FullName, ex);
            }
            catch (Exception ex) when (ex is LockBackendException or OperationCanceledException)
            {
                var kind = ex is LockBackendException ? "backend" : "canceled";
                Metrics.AcquireFailed(_options.TimeProvider.GetElapsedTime(started), kind);
                activity?.SetTag("distlock.outcome", kind);
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                throw;
            }

            activity?.SetTag("distlock.attempts", outcome.Attempts);
            if (outcome.Winner is not { } winner)
            {
                Metrics.AcquireFailed(outcome.Elapsed, "busy");
                activity?.SetTag("distlock.outcome", "busy");
                return throwWhenBusy ? throw TimedOut(request, hold.Mode, outcome) : null;
            }

            Metrics.Acquired(outcome.Elapsed, outcome.Attempts);
            activity?.SetTag("distlock.outcome", "acquired");
            var clock = new LeaseClock(_options.TimeProvider, _clockDriftFactor, ttl, winner.SentAt,
                request.AutoExtend ?? _options.Defaults.AutoExtend, request.MaxHoldTime ?? _options.Defaults.MaxHoldTime);
            var lease = new Lease(_leaseContext, hold, id, ttl, clock);
            var handle = new LockHandle(this, request, outcome, lease);
            if (_options.AutoReleaseOnDispose)
            {
                // Only auto-release needs the registry; without it, the hot path takes no shared lock.
                // Its reference is strong on purpose: the user asked the manager to release these
                // handles, so one the application drops stays extended until the manager releases it,
                // instead of being abandoned by its finalizer (see LockHandle).
                _held.TryAdd(handle, 0);
            }

            if (Volatile.Read(ref _closing) == 1)
            {
                // Disposal began while this attempt was in flight: do not hand out a lock nobody will release.
                await handle.DisposeAsync().ConfigureAwait(false);
                ObjectDisposedException.ThrowIf(true, _owner);
            }

            return handle;
        }
        finally
        {
            _loop.InFlight.Exit();
        }
    }

    private LockTimeoutException TimedOut(LockRequest request, LockMode mode, AcquireOutcome outcome)
    {
        if (request.Resources.Count == 1)
        {
            return new LockTimeoutException(request.Resource, mode, outcome.Attempts, outcome.Elapsed);
        }

        var busy = outcome.Busy ?? [];
        return LockTimeoutException.ForSet(request.Resources, [.. request.Resources.Where(r => busy.Contains(_keys.LockKey(r)))], outcome.Attempts, outcome.Elapsed);
    }

    /// <summary>128 random bits in hex: unique among a lock's owners (see <see cref="RandomHex"/>); with the holder's label, if set.</summary>
    private static string NewLockId(LockManagerOptions options) => HolderValue.New(options.Defaults.HolderLabel, options.TimeProvider);
}
