using DistLock.Algorithm;

namespace DistLock;

/// <summary>
/// A lock that was acquired. Release it with <see cref="ReleaseAsync"/> or by disposing it
/// (<c>await using</c>); if the process dies, Redis frees the lock when its TTL runs out.
/// Only a manager creates handles, and a handle always stood for a held lock when it was returned.
/// Automatic extension does not keep a handle alive: one the application drops without releasing
/// is extended only until the garbage collector finds it; then its lock is released in Redis
/// (and the handle turns <see cref="LockState.Lost"/>, warning 1011). With
/// <see cref="LockManagerOptions.AutoReleaseOnDispose"/> the manager keeps every handle until it is
/// released, so a dropped one is extended until the manager is disposed and releases it.
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
    private const int NotReleased = 0;
    private const int Releasing = 1;
    private const int Released = 2;

    private readonly LockEngine _engine;
    private readonly Lease _lease;
    private int _release;

    // The sources of LostToken and EndedToken, once asked for: held here, weakly by the lease (see Lease.LostSource).
    private CancellationTokenSource? _lost;
    private CancellationTokenSource? _ended;

    internal LockHandle(LockEngine engine, LockRequest request, AcquireOutcome outcome, Lease lease)
    {
        _engine = engine;
        _lease = lease;
        Resource = request.Resource;
        Resources = request.Resources;
        var won = outcome.Winner!;
        LateGrants = LateGrants.Of(won.Round);
        AcquiredOnAttempt = outcome.Attempts;
        AcquireDelay = outcome.Elapsed;
        Validity = won.Validity;
    }

    /// <summary>
    /// The application dropped this handle without releasing it (a forgotten <c>await using</c>):
    /// its lock is no longer extended and is released in the background, so waiters get it at once
    /// instead of after its TTL, and warning 1011 names the resource. A handle that was released
    /// never gets here.
    /// </summary>
    ~LockHandle()
    {
        try
        {
            if (_lease.Abandon(Resource, LateGrants))
            {
                _ = _lost?.CancelAsync();
                _ = _ended?.CancelAsync();
            }
        }
        catch (Exception)
        {
            // The finalizer thread must not throw (a logger might); the lease is out of the keeper by now.
        }
    }

    /// <summary>
    /// The name of the locked resource, as the caller gave it; for a set of resources
    /// (<see cref="MultiResourceExtensions.AcquireAllAsync(ILockManager, IEnumerable{string}, TimeSpan?, CancellationToken)"/>),
    /// their names joined by ", ".
    /// </summary>
    public string Resource { get; }

    /// <summary>
    /// The resources this handle holds: the one name, or for a set its names, sorted (ordinal)
    /// without duplicates. They are extended, lost and released together.
    /// </summary>
    public IReadOnlyList<string> Resources { get; }

    /// <summary>The Redis key of the lock (see docs/design.md for the key layout); for a set, the members' keys joined by '+'.</summary>
    public string Key => _lease.Key;

    /// <summary>
    /// What kind of lock this is: <see cref="LockMode.Exclusive"/>, <see cref="LockMode.Read"/> or a
    /// permit of a <see cref="LockMode.Semaphore"/>.
    /// </summary>
    public LockMode Mode => _lease.Hold.Mode;

    /// <summary>
    /// The holder's id, stored as the lock's value in Redis, which identifies this owner: 128 random
    /// bits in hex (after the holder label, when one is set), or the id the caller chose in
    /// <see cref="LockRequest.HolderId"/>. Inspection shows it as <see cref="LockInfo.HolderId"/>.
    /// </summary>
    public string HolderId => _lease.Id;

    /// <summary>
    /// The time to live the lock was acquired with. Automatic extension extends it by this much,
    /// until a call to <see cref="ExtendAsync(TimeSpan, CancellationToken)"/> gives another TTL, which it goes on with.
    /// </summary>
    public TimeSpan Ttl => _lease.Ttl;

    /// <summary>Which attempt took the lock (1 when it was free).</summary>
    public int AcquiredOnAttempt { get; }

    /// <summary>How long acquiring took, waiting included.</summary>
    public TimeSpan AcquireDelay { get; }

    /// <summary>
    /// How long the lock was certainly held when it was acquired: the TTL less the time the
    /// winning attempt took and the clock-drift allowance (<see cref="RedisLockManagerOptions.ClockDriftFactor"/>;
    /// <see cref="InMemoryLockManager"/> sets aside its default, 1 % of the TTL and 2 ms).
    /// </summary>
    public TimeSpan Validity { get; }

    /// <summary>
    /// The fencing token of this acquisition: a positive number, strictly greater than the token of
    /// every earlier holder of the same resource (also in Redlock mode, and when a minority of the
    /// nodes failed). Pass it with every write to the protected resource, which rejects writes with a
    /// token lower than the highest it has seen (see <see cref="FencedRedisStore"/> and docs/safety.md).
    /// </summary>
    /// <remarks>
    /// Issued on demand: the first call asks Redis for it (one round trip, only while the lock is
    /// held), and later calls return the same token without a round trip. An acquisition that never
    /// asks pays nothing for fencing. Tokens are ordered as the holds that asked for them: a holder
    /// asks while it holds, so any later holder's token is higher.
    /// </remarks>
    /// <example>
    /// <code>
    /// var token = await handle.GetFencingTokenAsync(ct);
    /// await store.TryWriteAsync("report", value, token, ct);
    /// </code>
    /// </example>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>The token.</returns>
    /// <exception cref="LockLostException">The lock was lost or released before a token was issued.</exception>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) could not be reached.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public ValueTask<long> GetFencingTokenAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _engine.ThrowIfDisposed();
        var issuing = _lease.FenceAsync();
        return issuing.IsCompletedSuccessfully ? new(issuing.Result) : new(issuing.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Until when the lock is certainly held: the send time of the last successful acquire or
    /// extend, plus the TTL, less the drift allowance. Moves forward with each extension.
    /// </summary>
    public DateTimeOffset ValidUntil
    {
        get
        {
            var time = _engine.Options.TimeProvider;
            var now = time.GetTimestamp();
            return time.GetUtcNow() + time.GetElapsedTime(now, _lease.Deadline);
        }
    }

    /// <summary>
    /// Held, released, or lost (see <see cref="LostToken"/>). Judged when read: a lock past
    /// <see cref="ValidUntil"/> reads as lost (and fires <see cref="LostToken"/>) even before the
    /// extension timer has run, so checking it before each step of the protected work is exact.
    /// </summary>
    public LockState State => _lease.State;

    /// <summary>
    /// Cancelled when the lock is lost: an extension was refused (the key expired or was taken
    /// over), or <see cref="ValidUntil"/> passed before an extension succeeded (Redis unreachable,
    /// or this process paused), or the manager was disposed while the lock was held. It fires before
    /// the key can have expired in Redis, so work that observes it stops while still alone. It does
    /// not fire when the lock is released, except by a release that got no answer (see
    /// <see cref="ReleaseAsync"/>): that one may have deleted the key, so the lock counts as lost.
    /// The token reads as cancelled (and <see cref="State"/> as <see cref="LockState.Lost"/>) from
    /// that moment; callbacks registered on it run on the thread pool, so they may run after the
    /// call that lost the lock has returned or thrown. Check the token or the state, not a flag a
    /// callback sets, before each step.
    /// </summary>
    public CancellationToken LostToken => (_lost ??= _lease.LostSource())?.Token ?? new CancellationToken(canceled: true);

    /// <summary>Cancelled when the lock stops being held for any reason: lost, or released (by its owner or by the manager).</summary>
    internal CancellationToken EndedToken => (_ended ??= _lease.EndedSource())?.Token ?? new CancellationToken(canceled: true);

    internal LockEngine Engine => _engine;

    /// <summary>What the release needs of the winning round (see <see cref="Algorithm.LateGrants"/>); null in the common case.</summary>
    internal LateGrants? LateGrants { get; }

    internal Lease Lease => _lease;

    /// <summary>Extends the lock by its original <see cref="Ttl"/>; see <see cref="ExtendAsync(TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>True when extended; false when the lock was released, lost, expired or is held by someone else.</returns>
    public Task<bool> ExtendAsync(CancellationToken cancellationToken = default) => ExtendAsync(Ttl, cancellationToken);

    /// <summary>
    /// Resets the lock's time to live to <paramref name="ttl"/>, only if this handle still owns it
    /// (dist-lock <c>extend</c>). An expired or taken-over lock is never re-created, and a refusal
    /// marks the handle <see cref="LockState.Lost"/>. Automatic extension (<see cref="AcquireOptions.AutoExtend"/>)
    /// makes calling this unnecessary; after a call, it goes on with the TTL given here.
    /// </summary>
    /// <remarks>
    /// Extensions of one handle run one at a time: a call waits for the automatic extension in
    /// flight (and the next automatic one waits for it), so <see cref="ValidUntil"/> always follows
    /// the TTL Redis ran last. The answer agrees with <see cref="State"/>: an extension that reaches
    /// Redis after the handle was lost returns false. One that throws may still reach Redis later,
    /// so it can only bring <see cref="ValidUntil"/> earlier (to its own send time plus
    /// <paramref name="ttl"/>, less the drift allowance, when that is sooner). Cancelling
    /// <paramref name="cancellationToken"/> stops the wait, not the extension.
    /// </remarks>
    /// <param name="ttl">The new time to live, from <see cref="AcquireOptions.MinTtl"/> to <see cref="AcquireOptions.MaxTtl"/>.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>True when extended; false when the lock was released, lost, expired or is held by someone else.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is out of range (zero would delete the key).</exception>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) could not be reached.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public Task<bool> ExtendAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        AcquireOptions.CheckTtl(ttl, nameof(ttl));
        cancellationToken.ThrowIfCancellationRequested();
        _engine.ThrowIfDisposed();
        return _lease.ExtendAsync(ttl).WaitAsync(cancellationToken);
    }

    /// <summary>Blocking form of <see cref="ExtendAsync(TimeSpan, CancellationToken)"/>; it blocks the calling thread.</summary>
    /// <param name="ttl">The new time to live.</param>
    /// <returns>True when extended.</returns>
    public bool Extend(TimeSpan ttl) => ExtendAsync(ttl).GetAwaiter().GetResult();

    /// <summary>
    /// Deletes the lock in Redis if this handle still owns it, and stops extending it. Idempotent:
    /// once a release has had its answer, later calls return false without a round trip.
    /// </summary>
    /// <remarks>
    /// A release that ends without an answer (it throws: Redis or a majority of nodes could not be
    /// reached or did not answer in time, a script failed part way, or
    /// <paramref name="cancellationToken"/> stopped the wait) may still have deleted the key, so
    /// someone else may hold the lock already. The handle then never reads
    /// <see cref="LockState.Held"/> again: it turns <see cref="LockState.Lost"/> and
    /// <see cref="LostToken"/> fires, before the exception reaches the caller. It stays releasable:
    /// a later call sends the same compare-and-delete again, which deletes the key only if it is
    /// still this handle's (the state stays <see cref="LockState.Lost"/>). A token cancelled before
    /// the call changes nothing: no command was sent.
    /// </remarks>
    /// <param name="cancellationToken">Stops waiting for the answer (the release may still happen, so the handle is then lost).</param>
    /// <returns>True when this call released the lock; false when it had expired, was taken over, or was already released.</returns>
    /// <exception cref="LockBackendException">Redis (a majority of nodes) could not be reached or failed; the handle is lost and stays releasable.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; if the release had been sent, the handle is lost and stays releasable.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public Task<bool> ReleaseAsync(CancellationToken cancellationToken = default) =>
        ReleaseCoreAsync(quiet: false, cancellationToken);

    /// <summary>Blocking form of <see cref="ReleaseAsync"/>; it blocks the calling thread.</summary>
    /// <returns>True when this call released the lock.</returns>
    public bool Release() => ReleaseAsync().GetAwaiter().GetResult();

    /// <summary>
    /// Releases the lock like <see cref="ReleaseAsync"/>, but never throws: a failure is logged,
    /// the handle turns <see cref="LockState.Lost"/> (as for <see cref="ReleaseAsync"/>), and the
    /// lock expires with its TTL. Call <see cref="ReleaseAsync"/> to observe failures.
    /// </summary>
    /// <returns>A task that completes when the release is done.</returns>
    public ValueTask DisposeAsync() => new(ReleaseCoreAsync(quiet: true, CancellationToken.None));

    /// <summary>Blocking form of <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// The release behind <see cref="ReleaseAsync"/> and <see cref="DisposeAsync"/> (which is
    /// <paramref name="quiet"/>: it logs a failure instead of throwing), written once so that a
    /// dispose costs no extra state machine.
    /// </summary>
    private async Task<bool> ReleaseCoreAsync(bool quiet, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Volatile.Read(ref _release) != NotReleased)
        {
            return false;
        }

        try
        {
            _engine.ThrowIfDisposed();
        }
        catch (ObjectDisposedException ex) when (quiet)
        {
            // The manager lost (or released) every lease when it closed: nothing extends this one.
            Log.ReleaseOnDisposeFailed(_engine.Logger, ex, Key);
            return false;
        }

        if (Interlocked.CompareExchange(ref _release, Releasing, NotReleased) != NotReleased)
        {
            return false;
        }

        // Released on purpose: the finalizer has nothing left to do.
        GC.SuppressFinalize(this);

        // A lost lock is still deleted if the key is ours after all: that frees it sooner than its TTL.
        var wasHeld = _lease.BeginRelease();
        try
        {
            var released = await _engine.ReleaseCoreAsync(this).WaitAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _release, Released);
            if (wasHeld)
            {
                _lease.ReleaseDone();
            }

            return released;
        }
        catch (Exception ex)
        {
            // No answer (an outage, a timeout, a cancellation, or a script that failed after its
            // DEL, which Redis does not roll back): the key may be gone and someone else may hold
            // the lock, so the handle is never Held again. It is lost, and stays releasable: a
            // retry runs the same compare-and-delete, which cannot touch another owner's lock.
            _lease.ReleaseUnclear();
            Volatile.Write(ref _release, NotReleased);
            if (quiet && ex is DistLockException)
            {
                Log.ReleaseOnDisposeFailed(_engine.Logger, ex, Key);
                return false;
            }

            throw;
        }
    }
}
