using DistLock.Algorithm;

namespace DistLock;

/// <summary>
/// A lock that was acquired. Release it with <see cref="ReleaseAsync"/> or by disposing it
/// (<c>await using</c>); if the process dies, Redis frees the lock when its TTL runs out.
/// Only a manager creates handles, and a handle always stood for a held lock when it was returned.
/// </summary>
/// <example>
/// <code>
/// await using (var handle = await locks.AcquireAsync("reports:daily"))
/// {
///     // Only one process at a time runs this; handle.ValidUntil says until when it is safe.
/// }
/// </code>
/// </example>
public sealed class LockHandle : IAsyncDisposable, IDisposable
{
    private const int Held = 0;
    private const int Releasing = 1;
    private const int Released = 2;

    private readonly RedisLockManager _manager;
    private int _state;
    private long _validUntilUtcTicks;

    internal LockHandle(RedisLockManager manager, string resource, string key, string id, TimeSpan ttl, AcquireOutcome outcome)
    {
        _manager = manager;
        Resource = resource;
        Key = key;
        Id = id;
        Ttl = ttl;
        Acquisition = outcome.Winner!;
        AcquiredOnAttempt = outcome.Attempts;
        AcquireDelay = outcome.Elapsed;
        Validity = Acquisition.Validity;
        SetValidUntil(Acquisition.Validity, Acquisition.SentAt);
    }

    /// <summary>The name of the locked resource, as the caller gave it.</summary>
    public string Resource { get; }

    /// <summary>The Redis key of the lock (see docs/design.md for the key layout).</summary>
    public string Key { get; }

    /// <summary>
    /// The lock's value in Redis, which identifies this owner: 128 random bits in hex, or the
    /// value the caller chose in <see cref="LockRequest.Value"/>.
    /// </summary>
    public string Id { get; }

    /// <summary>The time to live the lock was acquired with.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Which attempt took the lock (1 when it was free).</summary>
    public int AcquiredOnAttempt { get; }

    /// <summary>How long acquiring took, waiting included.</summary>
    public TimeSpan AcquireDelay { get; }

    /// <summary>
    /// How long the lock was certainly held when it was acquired: the TTL less the time the
    /// winning attempt took and the clock-drift allowance (<see cref="LockOptions.ClockDriftFactor"/>).
    /// </summary>
    public TimeSpan Validity { get; }

    /// <summary>Until when the lock is certainly held; moves forward with each successful extension.</summary>
    public DateTimeOffset ValidUntil => new(Interlocked.Read(ref _validUntilUtcTicks), TimeSpan.Zero);

    internal RedisLockManager Manager => _manager;

    internal AttemptResult Acquisition { get; }

    /// <summary>Extends the lock by its original <see cref="Ttl"/>; see <see cref="ExtendAsync(TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    public Task<bool> ExtendAsync(CancellationToken cancellationToken = default) => ExtendAsync(Ttl, cancellationToken);

    /// <summary>
    /// Resets the lock's time to live to <paramref name="ttl"/>, only if this handle still owns it
    /// (dist-lock <c>extend</c>). An expired or taken-over lock is never re-created.
    /// </summary>
    /// <param name="ttl">The new time to live, from <see cref="LockOptions.MinTtl"/> to <see cref="LockOptions.MaxTtl"/>.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>True when extended; false when the lock was released, expired or is held by someone else.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is out of range (zero would delete the key).</exception>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) could not be reached.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public async Task<bool> ExtendAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        LockOptions.CheckTtl(ttl, nameof(ttl));
        cancellationToken.ThrowIfCancellationRequested();
        _manager.ThrowIfDisposed();
        if (Volatile.Read(ref _state) != Held)
        {
            return false;
        }

        var extended = await _manager.Quorum.ExtendAsync(Key, Id, ttl).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (extended is not { } result)
        {
            return false;
        }

        SetValidUntil(result.Validity, result.SentAt);
        return true;
    }

    /// <summary>Blocking form of <see cref="ExtendAsync(TimeSpan, CancellationToken)"/>; it blocks the calling thread.</summary>
    /// <param name="ttl">The new time to live.</param>
    /// <returns>True when extended.</returns>
    public bool Extend(TimeSpan ttl) => ExtendAsync(ttl).GetAwaiter().GetResult();

    /// <summary>
    /// Deletes the lock in Redis if this handle still owns it. Idempotent: later calls return false
    /// without a round trip.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the answer (the release may still happen).</param>
    /// <returns>True when this call released the lock; false when it had expired, was taken over, or was already released.</returns>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) could not be reached; the handle stays releasable.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public async ValueTask<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Volatile.Read(ref _state) != Held)
        {
            return false;
        }

        _manager.ThrowIfDisposed();
        if (Interlocked.CompareExchange(ref _state, Releasing, Held) != Held)
        {
            return false;
        }

        try
        {
            var released = await _manager.ReleaseCoreAsync(this).WaitAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _state, Released);
            return released;
        }
        catch
        {
            Volatile.Write(ref _state, Held);
            throw;
        }
    }

    /// <summary>Blocking form of <see cref="ReleaseAsync"/>; it blocks the calling thread.</summary>
    /// <returns>True when this call released the lock.</returns>
    public bool Release() => ReleaseAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Releases the lock like <see cref="ReleaseAsync"/>, but never throws: a failure is logged and
    /// the lock expires with its TTL. Call <see cref="ReleaseAsync"/> to observe failures.
    /// </summary>
    /// <returns>A task that completes when the release is done.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DistLockException or ObjectDisposedException)
        {
            Log.ReleaseOnDisposeFailed(_manager.Logger, ex, Key);
        }
    }

    /// <summary>Blocking form of <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void SetValidUntil(TimeSpan validity, long sentAt)
    {
        var time = _manager.Quorum.Time;
        var until = time.GetUtcNow() - time.GetElapsedTime(sentAt) + validity;
        Interlocked.Exchange(ref _validUntilUtcTicks, until.UtcTicks);
    }
}
