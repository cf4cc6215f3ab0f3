using Microsoft.Extensions.Logging;

namespace DistLock.Algorithm;

/// <summary>
/// The life of one held lock after it was acquired: its deadline (the send time of the last
/// successful acquire or extend, plus the TTL, less the drift allowance: the key cannot have
/// expired on a majority before it), automatic extension, and the lost signal.
/// </summary>
internal sealed class Lease
{
    private readonly RedlockProtocol _protocol;
    private readonly TimeProvider _time;
    private readonly LeaseKeeper _keeper;
    private readonly ILogger _logger;
    private readonly LockMetrics _metrics;
    private readonly long _acquiredAt;

    // Made when LostToken is first read: most locks are released without anyone watching it.
    private CancellationTokenSource? _lost;
    private readonly Lock _gate = new();
    private readonly long _stopExtendingAt;
    private readonly bool _autoExtend;
    private long _deadline;
    private TimeSpan _extensionTtl;
    private long _deadlineSentAt;
    private long _nextExtension;
    private bool _extending;

    // The last extension asked for; the next one starts when it is done (see ExtendAsync).
    private Task _lastExtension = Task.CompletedTask;
    private LockState _state = LockState.Held;

    public Lease(RedlockProtocol protocol, LeaseKeeper keeper, ILogger logger, LockMetrics metrics, LockTarget target, string id, TimeSpan ttl,
        long acquiredSentAt, bool autoExtend, TimeSpan? maxHoldTime)
    {
        _protocol = protocol;
        _time = keeper.Time;
        _keeper = keeper;
        _logger = logger;
        _metrics = metrics;
        _acquiredAt = _time.GetTimestamp();
        Target = target;
        Id = id;
        Ttl = ttl;
        _extensionTtl = ttl;
        _autoExtend = autoExtend;
        _stopExtendingAt = maxHoldTime is { } hold ? SaturatingAdd(acquiredSentAt, ToTimestamp(hold)) : long.MaxValue;
        _deadline = _protocol.Deadline(ttl, acquiredSentAt);
        _deadlineSentAt = acquiredSentAt;
        _nextExtension = acquiredSentAt + ToTimestamp(ExtensionInterval(ttl));
        lock (_gate)
        {
            ScheduleNext();
        }
    }

    /// <summary>The lock key and mode.</summary>
    public LockTarget Target { get; }

    public string Key => Target.Key;

    public string Id { get; }

    /// <summary>The TTL of the acquisition.</summary>
    public TimeSpan Ttl { get; }

    public CancellationToken LostToken
    {
        get
        {
            lock (_gate)
            {
                if (_lost is null)
                {
                    if (_state == LockState.Lost)
                    {
                        return new CancellationToken(canceled: true);
                    }

                    _lost = new CancellationTokenSource();
                }

                return _lost.Token;
            }
        }
    }

    /// <summary>
    /// The state, judged now: a lease past its deadline is lost even if the keeper's timer has not
    /// run yet (the process was paused, or the thread pool is busy), so a check before each use is exact.
    /// </summary>
    public LockState State
    {
        get
        {
            lock (_gate)
            {
                if (_state != LockState.Held || _time.GetTimestamp() < _deadline)
                {
                    return _state;
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
                return _deadline;
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
            ttl = requested ?? _extensionTtl;
        }

        using var activity = _metrics.Start("extend", Key);
        var sentAt = _time.GetTimestamp();
        (TimeSpan Validity, long SentAt)? extended;
        try
        {
            extended = await _protocol.ExtendAsync(Target, Id, ttl).ConfigureAwait(false);
        }
        catch (LockBackendException ex)
        {
            _metrics.Extended("failed");
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            lock (_gate)
            {
                // Unanswered is not undone: the extension may still reach the nodes, late, and
                // set a TTL shorter than the one the deadline counts on. The key lives at least
                // until the earlier of the two.
                var ifApplied = _protocol.Deadline(ttl, sentAt);
                if (_state == LockState.Held && ifApplied < _deadline)
                {
                    _deadline = ifApplied;
                    ScheduleNext();
                }
            }

            throw;
        }

        if (extended is not { } result)
        {
            _metrics.Extended("refused");
            activity?.SetTag("distlock.outcome", "refused");
            MarkLost(LostReason.Refused);
            return false;
        }

        _metrics.Extended("extended");
        activity?.SetTag("distlock.outcome", "extended");

        lock (_gate)
        {
            if (_state != LockState.Held)
            {
                // Lost (or released) while the extension was in flight: the answer must agree
                // with State, which never turns Held again.
                return false;
            }

            // Extensions run one at a time, so the latest sent is the latest run: it sets the
            // key's TTL, even a shorter one.
            if (result.SentAt >= _deadlineSentAt)
            {
                _deadline = _protocol.Deadline(ttl, result.SentAt);
                _deadlineSentAt = result.SentAt;
                _extensionTtl = ttl;
                _nextExtension = result.SentAt + ToTimestamp(ExtensionInterval(ttl));
                ScheduleNext();
            }
        }

        return true;
    }

    /// <summary>
    /// Marks the lease as being released: no more extensions, and no lost signal for a lock that
    /// is let go on purpose. Returns false when it was not held; when it returns true, the caller
    /// ends the release with <see cref="ReleaseDone"/> or <see cref="ReleaseUnclear"/>.
    /// </summary>
    public bool BeginRelease()
    {
        lock (_gate)
        {
            if (_state != LockState.Held)
            {
                return false;
            }

            _state = LockState.Released;
        }

        _keeper.Forget(this);
        return true;
    }

    /// <summary>The release begun by <see cref="BeginRelease"/> got its answer: the lock is no longer ours.</summary>
    public void ReleaseDone() => _metrics.Ended(_time.GetElapsedTime(_acquiredAt), lostReason: null);

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
            Log.LockLost(_logger, Key, LostReason.ReleaseUnclear.Description);
        }
    }

    /// <summary>Fires the lost signal once, unless the lease was released or lost already.</summary>
    public void MarkLost(LostReason reason)
    {
        if (Lose(LockState.Held, reason))
        {
            Log.LockLost(_logger, Key, reason.Description);
        }
    }

    /// <summary>
    /// The handle was garbage-collected while its lock was held (the application dropped it
    /// without releasing it): stop extending, so the key expires with its TTL, and say so.
    /// Called from the handle's finalizer.
    /// </summary>
    public void Abandon(string resource)
    {
        if (Lose(LockState.Held, LostReason.Abandoned))
        {
            Log.HandleAbandoned(_logger, resource, Key);
        }
    }

    /// <returns>True when the lease was in the state <paramref name="from"/> and is lost now.</returns>
    private bool Lose(LockState from, LostReason reason)
    {
        CancellationTokenSource? lost;
        lock (_gate)
        {
            if (_state != from)
            {
                return false;
            }

            _state = LockState.Lost;
            lost = _lost;
        }

        _keeper.Forget(this);
        _metrics.Ended(_time.GetElapsedTime(_acquiredAt), reason.Code);

        // Callbacks registered on the token run on the thread pool, not on the keeper's timer.
        _ = lost?.CancelAsync();
        return true;
    }

    /// <summary>Called by the keeper when the next extension or the deadline is due.</summary>
    public void OnDue()
    {
        var now = _time.GetTimestamp();
        TimeSpan? extendBy = null;
        lock (_gate)
        {
            if (_state != LockState.Held)
            {
                return;
            }

            if (now >= _stopExtendingAt)
            {
                // MaxHoldTime has passed: no extension is due any more, only the deadline. Left
                // as it was, a past _nextExtension would make ScheduleNext wake this lease again at
                // once, forever (a fake clock's Advance never returned; a real one spun until the deadline).
                _nextExtension = long.MaxValue;
            }

            if (now < _deadline)
            {
                if (WantsExtension(now))
                {
                    _extending = true;
                    extendBy = _extensionTtl;
                }

                // While an extension is in flight, the next wake is the deadline.
                ScheduleNext();
            }
        }

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
        var retry = false;
        try
        {
            await ExtendInTurnAsync(ttl: null).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Redis did not answer: try again soon; the deadline still fires if it stays away.
            Log.ExtensionFailed(_logger, ex, Key);
            retry = true;
        }

        lock (_gate)
        {
            _extending = false;
            if (retry)
            {
                _nextExtension = _time.GetTimestamp() + ToTimestamp(RetryInterval(ttl));
            }

            if (_state == LockState.Held)
            {
                ScheduleNext();
            }
        }
    }

    private bool WantsExtension(long now) =>
        _autoExtend && !_extending && now >= _nextExtension && now < _stopExtendingAt;

    private void ScheduleNext()
    {
        var wake = _deadline;
        if (_autoExtend && !_extending && _nextExtension < _stopExtendingAt && _nextExtension < wake)
        {
            wake = _nextExtension;
        }

        _keeper.Schedule(this, wake);
    }

    private long ToTimestamp(TimeSpan span) => _time.Ticks(span);

    // A MaxHoldTime of TimeSpan.MaxValue means no limit: the sum must not wrap around to the past.
    private static long SaturatingAdd(long timestamp, long ticks) =>
        ticks > long.MaxValue - timestamp ? long.MaxValue : timestamp + ticks;

    // Every third of the TTL: two extensions can fail (or be slow) before the key expires.
    private static TimeSpan ExtensionInterval(TimeSpan ttl) => ttl / 3;

    private static TimeSpan RetryInterval(TimeSpan ttl) => TimeSpan.FromTicks(Math.Max(ttl.Ticks / 10, TimeSpan.FromMilliseconds(5).Ticks));
}
