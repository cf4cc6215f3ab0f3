namespace DistLock.Algorithm;

/// <summary>
/// The life of one held lock after it was acquired: it sends the extensions its
/// <see cref="LeaseClock"/> asks for (automatic ones when the keeper wakes it, manual ones in
/// between, one at a time), fires the lost signal, and records the metrics and the log. What the
/// clock says (deadline, next extension, state) is the <see cref="LeaseClock"/>'s, read and moved
/// under this lease's lock.
/// </summary>
internal sealed class Lease
{
    private readonly LeaseContext _context;
    private readonly TimeProvider _time;
    private readonly long _acquiredAt;
    private readonly Lock _gate = new();
    private LeaseClock _clock;

    // The sources of the handle's LostToken and EndedToken, made when first asked for (most locks
    // are released without anyone watching). Referred to weakly: the handle holds them. The keeper
    // holds this lease, so a strong reference would keep a dropped handle alive through any callback
    // on its tokens that refers to it, and its lock would be extended for ever.
    private WeakReference<CancellationTokenSource>? _lost;
    private WeakReference<CancellationTokenSource>? _ended;

    // The last extension asked for; the next one starts when it is done (see ExtendAsync).
    private Task _lastExtension = Task.CompletedTask;

    // The fencing token, once issued; 0 before.
    private long _fence;

    // When the keeper should wake this lease next, published under the gate for the keeper to read
    // without it (see Schedule); Ended once the lease was released or lost.
    private long _wake;

    /// <param name="context">What the leases of one manager share: the protocol, the keeper, metrics and logger.</param>
    /// <param name="hold">What is held, on which resource.</param>
    /// <param name="id">The owner's lock id.</param>
    /// <param name="ttl">The TTL of the acquisition.</param>
    /// <param name="clock">The lease's clock, from the winning attempt's send time.</param>
    public Lease(LeaseContext context, Hold hold, string id, TimeSpan ttl, LeaseClock clock)
    {
        _context = context;
        _time = context.Keeper.Time;
        _acquiredAt = _time.GetTimestamp();
        Hold = hold;
        Id = id;
        Ttl = ttl;
        _clock = clock;
        _wake = clock.NextWake;
        _context.Keeper.Schedule(this);
    }

    /// <summary>The value of <see cref="Wake"/> once the lease was released or lost: the keeper no longer wakes it.</summary>
    public const long Ended = long.MinValue;

    /// <summary>The timestamp at which the keeper should wake this lease next, or <see cref="Ended"/>.</summary>
    public long Wake => Volatile.Read(ref _wake);

    /// <summary>What is held, on which resource.</summary>
    public Hold Hold { get; }

    public string Key => Hold.Key;

    public string Id { get; }

    /// <summary>The TTL of the acquisition.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>
    /// The source of the handle's LostToken, cancelled when the lease is lost; null when it is lost
    /// already. The caller keeps it alive (see <see cref="_lost"/>).
    /// </summary>
    public CancellationTokenSource? LostSource()
    {
        lock (_gate)
        {
            return _clock.State == LockState.Lost ? null : SourceOf(ref _lost);
        }
    }

    /// <summary>
    /// The source of a token cancelled when the lease stops being held for any reason: lost, or
    /// released, by its owner or by the manager (AutoReleaseOnDispose), where the lost token fires
    /// only for a loss; null when it is not held. The caller keeps it alive (see <see cref="_lost"/>).
    /// </summary>
    public CancellationTokenSource? EndedSource()
    {
        lock (_gate)
        {
            return _clock.State != LockState.Held ? null : SourceOf(ref _ended);
        }
    }

    private static CancellationTokenSource SourceOf(ref WeakReference<CancellationTokenSource>? weak)
    {
        if (weak is not null && weak.TryGetTarget(out var source))
        {
            return source;
        }

        source = new CancellationTokenSource();
        weak = new WeakReference<CancellationTokenSource>(source);
        return source;
    }

    private static CancellationTokenSource? Target(WeakReference<CancellationTokenSource>? weak) =>
        weak is not null && weak.TryGetTarget(out var source) ? source : null;

    /// <summary>
    /// The state, judged now: a lease past its deadline is lost even if the keeper's timer has not
    /// run yet (the process was paused, or the thread pool is busy), so a check before each use is exact.
    /// </summary>
    public LockState State
    {
        get
        {
            // Read before the gate: a fake clock runs due timers inside its readings.
            var now = _time.GetTimestamp();
            lock (_gate)
            {
                var state = _clock.StateAt(now);
                if (state == _clock.State)
                {
                    return state;
                }
            }

            MarkLost(LostReason.Expired);
            return LockState.Lost;
        }
    }

    /// <summary>The timestamp before which the lock is certainly held.</summary>
    public long Deadline
    {
        get
        {
            lock (_gate)
            {
                return _clock.Deadline;
            }
        }
    }

    /// <summary>
    /// Extends by <paramref name="ttl"/> on a majority; a refusal loses the lease. Extensions of
    /// one lease run one at a time, in call order (a manual one waits for the automatic one in
    /// flight, and the other way round): the deadline follows the last extension sent, which is
    /// then also the last one Redis ran. Two in flight at once could reach a node in either order,
    /// and the lease could keep a longer TTL than the one the key was left with.
    /// </summary>
    /// <returns>True when extended and still held; false when refused, or no longer held when the answer came.</returns>
    /// <exception cref="LockBackendException">Too many nodes failed to tell.</exception>
    public Task<bool> ExtendAsync(TimeSpan ttl) => ExtendInTurnAsync(ttl);

    /// <summary>Queues an extension; a null <paramref name="ttl"/> takes the extension TTL current when it is sent (automatic extension).</summary>
    private Task<bool> ExtendInTurnAsync(TimeSpan? ttl)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        lock (_gate)
        {
            previous = _lastExtension;
            _lastExtension = done.Task;
        }

        return ExtendAfterAsync(previous, done, ttl);
    }

    private async Task<bool> ExtendAfterAsync(Task previous, TaskCompletionSource done, TimeSpan? ttl)
    {
        try
        {
            // The previous extension's task never faults: it is the TaskCompletionSource below.
            await previous.ConfigureAwait(false);
            return await ExtendOnceAsync(ttl).ConfigureAwait(false);
        }
        finally
        {
            done.SetResult();
        }
    }

    private async Task<bool> ExtendOnceAsync(TimeSpan? requested)
    {
        if (State != LockState.Held)
        {
            return false;
        }

        TimeSpan ttl;
        lock (_gate)
        {
            // An automatic extension that waited for a manual one goes on with the manual one's TTL.
            ttl = requested ?? _clock.ExtensionTtl;
        }

        using var activity = _context.Metrics.Start("extend", Key);
        var sentAt = _time.GetTimestamp();
        (TimeSpan Validity, long SentAt)? extended;
        try
        {
            extended = await _context.Protocol.ExtendAsync(Hold, Id, ttl).ConfigureAwait(false);
        }
        catch (LockBackendException ex)
        {
            _context.Metrics.Extended("failed");
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            bool retry;
            lock (_gate)
            {
                retry = _clock.Unanswered(ttl, sentAt) && PublishWake();
            }

            Schedule(retry);
            throw;
        }

        if (extended is not { } result)
        {
            _context.Metrics.Extended("refused");
            activity?.SetTag("distlock.outcome", "refused");
            MarkLost(LostReason.Refused);
            return false;
        }

        _context.Metrics.Extended("extended");
        activity?.SetTag("distlock.outcome", "extended");

        bool moved;
        lock (_gate)
        {
            if (_clock.State != LockState.Held)
            {
                // Lost (or released) while the extension was in flight: the answer must agree
                // with State, which never turns Held again.
                return false;
            }

            moved = _clock.Extended(ttl, result.SentAt) && PublishWake();
        }

        Schedule(moved);
        return true;
    }

    /// <summary>
    /// The hold's fencing token, issued the first time it is asked for while the hold is held (an
    /// acquire issues none, so a caller that never asks pays nothing), and the same one after that.
    /// </summary>
    /// <exception cref="LockLostException">The hold was lost (or released) before a token was issued.</exception>
    /// <exception cref="LockBackendException">Too many nodes failed to tell.</exception>
    public async Task<long> FenceAsync()
    {
        if (Volatile.Read(ref _fence) is > 0 and var known)
        {
            return known;
        }

        if (State != LockState.Held)
        {
            throw new LockLostException(Key);
        }

        using var activity = _context.Metrics.Start("fence", Key);
        if (await _context.Protocol.IssueFenceAsync(Hold, Id).ConfigureAwait(false) is not { } token)
        {
            activity?.SetTag("distlock.outcome", "refused");
            MarkLost(LostReason.Refused);
            throw new LockLostException(Key);
        }

        activity?.SetTag("distlock.fencing_token", token);

        // Two calls at once may both issue one: every caller gets the first stored.
        Interlocked.CompareExchange(ref _fence, token, 0);
        return Volatile.Read(ref _fence);
    }

    /// <summary>
    /// Marks the lease as being released: no more extensions, and no lost signal for a lock that
    /// is let go on purpose. Returns false when it was not held; when it returns true, the caller
    /// ends the release with <see cref="ReleaseDone"/> or <see cref="ReleaseUnclear"/>.
    /// </summary>
    public bool BeginRelease()
    {
        CancellationTokenSource? ended;
        lock (_gate)
        {
            if (!_clock.TryMove(LockState.Held, LockState.Released))
            {
                return false;
            }

            Volatile.Write(ref _wake, Ended);
            ended = Target(_ended);
        }

        _context.Keeper.Forget(this);
        _ = ended?.CancelAsync();
        return true;
    }

    /// <summary>The release begun by <see cref="BeginRelease"/> got its answer: the lock is no longer ours.</summary>
    public void ReleaseDone() => _context.Metrics.Ended(_time.GetElapsedTime(_acquiredAt), lostReason: null);

    /// <summary>
    /// The release begun by <see cref="BeginRelease"/> ended without an answer (it failed, timed
    /// out or was cancelled): the compare-and-delete may have run, so the key may be gone and
    /// someone else may hold the lock. The lease is never held again: it is lost, and the lost
    /// signal fires. A later release may still retry the compare-and-delete, which is harmless.
    /// </summary>
    public void ReleaseUnclear()
    {
        if (Lose(LockState.Released, LostReason.ReleaseUnclear))
        {
            Log.LockLost(_context.Logger, Key, LostReason.ReleaseUnclear.Description);
        }
    }

    /// <summary>Fires the lost signal once, unless the lease was released or lost already.</summary>
    public void MarkLost(LostReason reason)
    {
        if (Lose(LockState.Held, reason))
        {
            Log.LockLost(_context.Logger, Key, reason.Description);
        }
    }

    /// <summary>
    /// The handle was garbage-collected while its lock was held (the application dropped it
    /// without releasing it): stop extending, release the lock in the background (nobody can use
    /// it any more, and waiters should not wait out its TTL), and say so. Called from the handle's
    /// finalizer, so nothing here may block or throw.
    /// </summary>
    /// <param name="resource">The resource, for the log.</param>
    /// <param name="lateGrants">What the release needs of the winning round (see <see cref="LateGrants"/>).</param>
    /// <returns>True when the lease was held until now: the handle cancels its token sources itself (the lease's references to them are gone by the time a finalizer runs).</returns>
    public bool Abandon(string resource, LateGrants? lateGrants)
    {
        if (!Lose(LockState.Held, LostReason.Abandoned))
        {
            return false;
        }

        Log.HandleAbandoned(_context.Logger, resource, Key);
        _ = ReleaseAbandonedAsync(lateGrants);
        return true;
    }

    private async Task ReleaseAbandonedAsync(LateGrants? lateGrants)
    {
        try
        {
            await _context.Protocol.ReleaseAsync(Hold, Id, lateGrants).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The key expires with its TTL.
            Log.CleanupFailed(_context.Logger, ex, Key, "all nodes");
        }
    }

    /// <returns>True when the lease was in the state <paramref name="from"/> and is lost now.</returns>
    private bool Lose(LockState from, LostReason reason)
    {
        CancellationTokenSource? lost;
        CancellationTokenSource? ended;
        lock (_gate)
        {
            if (!_clock.TryMove(from, LockState.Lost))
            {
                return false;
            }

            Volatile.Write(ref _wake, Ended);

            lost = Target(_lost);
            ended = Target(_ended);
        }

        _context.Keeper.Forget(this);
        _context.Metrics.Ended(_time.GetElapsedTime(_acquiredAt), reason.Code);

        // Callbacks registered on the token run on the thread pool, not on the keeper's timer.
        _ = lost?.CancelAsync();
        _ = ended?.CancelAsync();
        return true;
    }

    /// <summary>Called by the keeper when the next extension or the deadline is due.</summary>
    public void OnDue()
    {
        var now = _time.GetTimestamp();
        TimeSpan? extendBy;
        bool wakeAgain;
        lock (_gate)
        {
            if (_clock.State != LockState.Held)
            {
                return;
            }

            extendBy = _clock.Due(now);

            // While an extension is in flight, the next wake is the deadline.
            wakeAgain = now < _clock.Deadline && PublishWake();
        }

        Schedule(wakeAgain);

        if (extendBy is { } ttl)
        {
            // Outside the gate: the extension may complete (and lose the lease) synchronously. The
            // TTL sent is the one current when its turn comes; this one only paces the retries.
            _ = ExtendInBackgroundAsync(ttl);
        }
        else if (now >= Deadline)
        {
            MarkLost(LostReason.Expired);
        }
    }

    private async Task ExtendInBackgroundAsync(TimeSpan ttl)
    {
        var unanswered = false;
        try
        {
            await ExtendInTurnAsync(ttl: null).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Redis did not answer: try again soon; the deadline still fires if it stays away.
            Log.ExtensionFailed(_context.Logger, ex, Key);
            unanswered = true;
        }

        var now = _time.GetTimestamp();
        bool held;
        lock (_gate)
        {
            _clock.AutomaticExtensionEnded(unanswered, ttl, now);
            held = _clock.State == LockState.Held && PublishWake();
        }

        Schedule(held);
    }

    /// <summary>Under the gate: publishes the clock's next wake for the keeper; false once the lease has ended.</summary>
    private bool PublishWake()
    {
        if (_wake == Ended)
        {
            return false;
        }

        Volatile.Write(ref _wake, _clock.NextWake);
        return true;
    }

    /// <summary>
    /// After the gate: a fake clock runs due timers inside the keeper's timer call, and one waking
    /// another lease, on this thread, while this gate was held and that lease's holder waited for the
    /// keeper, deadlocked both (and with them every timer of that clock).
    /// </summary>
    private void Schedule(bool published)
    {
        if (published)
        {
            _context.Keeper.Schedule(this);
        }
    }
}
