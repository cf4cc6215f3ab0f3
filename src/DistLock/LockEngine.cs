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
    private readonly LockOptions _options;
    private readonly LockKeyLayout _keys;
    private readonly AcquireLoop _loop;
    private readonly LeaseContext _leaseContext;
    private readonly ConcurrentDictionary<LockHandle, byte> _held = new();
    private readonly object _owner;
    private int _closing;
    private int _disposed;

    /// <param name="owner">The public manager, for ownership checks and ObjectDisposedException.</param>
    /// <param name="nodes">The nodes, already built.</param>
    /// <param name="options">The manager's own copy of the settings.</param>
    /// <param name="mode">The metrics' mode tag.</param>
    /// <param name="logger">Where to log.</param>
    public LockEngine(object owner, IReadOnlyList<ILockNode> nodes, LockOptions options, string mode, ILogger logger)
    {
        _owner = owner;
        _options = options;
        Logger = logger;
        _keys = new LockKeyLayout(options.KeyPrefix);
        Protocol = new RedlockProtocol(nodes, options.NodeTimeout, options.ClockDriftFactor, options.TimeProvider, logger);
        Waiters = new WaitQueues(nodes, options.NodeTimeout, options.HandoffGrace, options.TimeProvider);
        _loop = new AcquireLoop(Protocol, Waiters, options.RetryDelay, options.HandoffGrace, options.MaxRetries, logger);
        Leases = new LeaseKeeper(options.TimeProvider);
        Metrics = new LockMetrics(LockTelemetry.MeterFrom(options.MeterFactory), mode);
        _leaseContext = new LeaseContext(Protocol, Leases, logger, Metrics);
    }

    public object Owner => _owner;

    public LockOptions Options => _options;

    public LockKeyLayout Keys => _keys;

    public RedlockProtocol Protocol { get; }

    public ILogger Logger { get; }

    public WaitQueues Waiters { get; }

    public LeaseKeeper Leases { get; }

    public LockMetrics Metrics { get; }

    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, _owner);

    public Task<LockHandle> AcquireAsync(LockRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AcquireCoreAsync(request, request.Timeout ?? _options.DefaultWaitTimeout, throwWhenBusy: true, cancellationToken)!;
    }

    public Task<LockHandle?> TryAcquireAsync(LockRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AcquireCoreAsync(request, request.Timeout ?? TimeSpan.Zero, throwWhenBusy: false, cancellationToken);
    }

    public Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!ReferenceEquals(handle.Engine, this))
        {
            throw new ArgumentException($"The lock handle was issued by another {_owner.GetType().Name}.", nameof(handle));
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
            released = await Protocol.ReleaseAsync(handle.LateGrants, handle.Key, handle.Id).ConfigureAwait(false);
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

    private async Task<LockHandle?> AcquireCoreAsync(LockRequest request, TimeSpan timeout, bool throwWhenBusy, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closing) == 1, _owner);
        var ttl = request.Ttl ?? _options.Ttl;
        var key = _keys.LockKey(request.Resource);
        var id = request.Id ?? NewLockId(_options);
        using var activity = Metrics.Start("acquire", request.Resource);
        var started = _options.TimeProvider.GetTimestamp();
        AcquireOutcome outcome;
        try
        {
            outcome = await _loop.RunAsync(key, id, ttl, timeout, cancellationToken).ConfigureAwait(false);
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
            return throwWhenBusy ? throw new LockTimeoutException(request.Resource, outcome.Attempts, outcome.Elapsed) : null;
        }

        Metrics.Acquired(outcome.Elapsed, outcome.Attempts);
        activity?.SetTag("distlock.outcome", "acquired");
        activity?.SetTag("distlock.fencing_token", winner.Fence);
        var clock = new LeaseClock(_options.TimeProvider, _options.ClockDriftFactor, ttl, winner.SentAt,
            request.AutoExtend ?? _options.AutoExtend, request.MaxHoldTime ?? _options.MaxHoldTime);
        var lease = new Lease(_leaseContext, key, id, ttl, clock);
        var handle = new LockHandle(this, request.Resource, outcome, lease);
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

    /// <summary>128 random bits in hex: unique among a lock's owners (see <see cref="RandomHex"/>); with the holder's label, if set.</summary>
    private static string NewLockId(LockOptions options) => options.HolderLabel is { } label
        ? HolderValue.Format(label, options.TimeProvider.GetUtcNow(), RandomHex.New(16))
        : RandomHex.New(16);
}
