using Microsoft.Extensions.Logging;

namespace DistLock.Algorithm;

/// <summary>
/// The life of one held lock after it was acquired: its deadline (the send time of the last
/// successful acquire or extend, plus the TTL, less the drift allowance: the key cannot have
/// expired on a majority before it), automatic extension, and the lost signal.
/// </summary>
internal sealed class Lease
{
    private readonly QuorumLock _lock;
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
    private LockState _state = LockState.Held;

    public Lease(QuorumLock quorumLock, LeaseKeeper keeper, ILogger logger, LockMetrics metrics, string key, string value, TimeSpan ttl,
        long acquiredSentAt, bool autoExtend, TimeSpan? maxHoldTime)
    {
        _lock = quorumLock;
        _keeper = keeper;
        _logger = logger;
        _metrics = metrics;
        _acquiredAt = quorumLock.Time.GetTimestamp();
        Key = key;
        Value = value;
        Ttl = ttl;
        _extensionTtl = ttl;
        _autoExtend = autoExtend;
        _stopExtendingAt = maxHoldTime is { } hold ? SaturatingAdd(acquiredSentAt, ToTimestamp(hold)) : long.MaxValue;
        _deadline = _lock.Deadline(ttl, acquiredSentAt);
        _deadlineSentAt = acquiredSentAt;
        _nextExtension = acquiredSentAt + ToTimestamp(ExtensionInterval(ttl));
        lock (_gate)
        {
            ScheduleNext();
        }
    }

    public string Key { get; }

    public string Value { get; }

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
                if (_state != LockState.Held || _lock.Time.GetTimestamp() < _deadline)
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

    /// <summary>Extends by <paramref name="ttl"/> on a majority; a refusal loses the lease.</summary>
    /// <returns>True when extended; false when refused or no longer held.</returns>
    /// <exception cref="LockBackendException">Too many nodes failed to tell.</exception>
    public async Task<bool> ExtendAsync(TimeSpan ttl)
    {
        if (State != LockState.Held)
        {
            return false;
        }

        using var activity = _metrics.Start("extend", Key);
        (TimeSpan Validity, long SentAt)? extended;
        try
        {
            extended = await _lock.ExtendAsync(Key, Value, ttl).ConfigureAwait(false);
        }
        catch (LockBackendException ex)
        {
            _metrics.Extended("failed");
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
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
            // The latest extension sent sets the key's TTL, even a shorter one.
            if (_state == LockState.Held && result.SentAt >= _deadlineSentAt)
            {
                _deadline = _lock.Deadline(ttl, result.SentAt);
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
    public void ReleaseDone() => _metrics.Ended(_lock.Time.GetElapsedTime(_acquiredAt), lostReason: null);

    /// <summary>
    /// The release begun by <see cref="BeginRelease"/> ended without an answer (it failed, timed
    /// out or was cancelled): the compare-and-delete may have run, so the key may be gone and
    /// someone else may hold the lock. The lease is never held again: it is lost, and the lost
    /// signal fires. A later release may still retry the compare-and-delete, which is harmless.
    /// </summary>
    public void ReleaseUnclear() => Lose(LockState.Released, LostReason.ReleaseUnclear);

    /// <summary>Fires the lost signal once, unless the lease was released or lost already.</summary>
    public void MarkLost(LostReason reason) => Lose(LockState.Held, reason);

    private void Lose(LockState from, LostReason reason)
    {
        CancellationTokenSource? lost;
        lock (_gate)
        {
            if (_state != from)
            {
                return;
            }

            _state = LockState.Lost;
            lost = _lost;
        }

        _keeper.Forget(this);
        _metrics.Ended(_lock.Time.GetElapsedTime(_acquiredAt), reason.Code);
        Log.LockLost(_logger, Key, reason.Description);

        // Callbacks registered on the token run on the thread pool, not on the keeper's timer.
        _ = lost?.CancelAsync();
    }

    /// <summary>Called by the keeper when the next extension or the deadline is due.</summary>
    public void OnDue()
    {
        var now = _lock.Time.GetTimestamp();
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
            // Outside the gate: the extension may complete (and lose the lease) synchronously.
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
            await ExtendAsync(ttl).ConfigureAwait(false);
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
                _nextExtension = _lock.Time.GetTimestamp() + ToTimestamp(RetryInterval(ttl));
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

    private long ToTimestamp(TimeSpan span) => _lock.Time.Ticks(span);

    // A MaxHoldTime of TimeSpan.MaxValue means no limit: the sum must not wrap around to the past.
    private static long SaturatingAdd(long timestamp, long ticks) =>
        ticks > long.MaxValue - timestamp ? long.MaxValue : timestamp + ticks;

    // Every third of the TTL: two extensions can fail (or be slow) before the key expires.
    private static TimeSpan ExtensionInterval(TimeSpan ttl) => ttl / 3;

    private static TimeSpan RetryInterval(TimeSpan ttl) => TimeSpan.FromTicks(Math.Max(ttl.Ticks / 10, TimeSpan.FromMilliseconds(5).Ticks));
}
