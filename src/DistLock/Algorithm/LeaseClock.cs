namespace DistLock.Algorithm;

/// <summary>
/// What the clock says about one held lock, and nothing else: its state, its deadline (the send
/// time of the last successful acquire or extend, plus the TTL, less the drift allowance: the key
/// cannot have expired on a majority before it), when the next automatic extension is due, and
/// when extending stops (<see cref="AcquireOptions.MaxHoldTime"/>). It sends nothing and takes no
/// lock: <see cref="Lease"/> calls it under its own lock, with the timestamps it read, and does the
/// sending, the signalling and the logging.
/// </summary>
/// <remarks>A struct kept inside its lease, so a lock costs no extra object per acquisition.</remarks>
internal struct LeaseClock
{
    private readonly TimeProvider _time;
    private readonly double _driftFactor;
    private readonly long _stopExtendingAt;
    private readonly bool _autoExtend;
    private long _deadline;
    private long _deadlineSentAt;
    private long _nextExtension;
    private TimeSpan _extensionTtl;
    private bool _extending;

    /// <param name="time">The clock whose timestamps are passed in.</param>
    /// <param name="driftFactor">The share of the TTL set aside for clock drift (<see cref="LockValidity.Drift"/>).</param>
    /// <param name="ttl">The TTL the lock was acquired with.</param>
    /// <param name="acquiredSentAt">When the winning attempt was sent.</param>
    /// <param name="autoExtend">Whether extensions are due every third of the TTL.</param>
    /// <param name="maxHoldTime">After how long (from <paramref name="acquiredSentAt"/>) no extension is due any more; null for no limit.</param>
    public LeaseClock(TimeProvider time, double driftFactor, TimeSpan ttl, long acquiredSentAt, bool autoExtend, TimeSpan? maxHoldTime)
    {
        _time = time;
        _driftFactor = driftFactor;
        _autoExtend = autoExtend;
        _extensionTtl = ttl;
        _stopExtendingAt = maxHoldTime is { } hold ? SaturatingAdd(acquiredSentAt, time.Ticks(hold)) : long.MaxValue;
        _deadline = DeadlineOf(ttl, acquiredSentAt);
        _deadlineSentAt = acquiredSentAt;
        _nextExtension = acquiredSentAt + time.Ticks(ExtensionInterval(ttl));
        State = LockState.Held;
    }

    /// <summary>The state as last moved; see <see cref="StateAt"/> for the state judged at a time.</summary>
    public LockState State { get; private set; }

    /// <summary>The timestamp before which the lock is certainly held.</summary>
    public readonly long Deadline => _deadline;

    /// <summary>The TTL the next automatic extension sends: the one of the last extension that succeeded.</summary>
    public readonly TimeSpan ExtensionTtl => _extensionTtl;

    /// <summary>When the lease next needs the keeper: the next extension, or the deadline when none is due first.</summary>
    public readonly long NextWake =>
        _autoExtend && !_extending && _nextExtension < _stopExtendingAt && _nextExtension < _deadline ? _nextExtension : _deadline;

    /// <summary>
    /// The state at <paramref name="now"/>: held until the deadline, lost from it on, even if nobody
    /// has moved the state yet (a paused process, a busy thread pool).
    /// </summary>
    public readonly LockState StateAt(long now) => State == LockState.Held && now >= _deadline ? LockState.Lost : State;

    /// <summary>Moves the state from <paramref name="from"/> to <paramref name="to"/>; false when it was not in <paramref name="from"/>.</summary>
    public bool TryMove(LockState from, LockState to)
    {
        if (State != from)
        {
            return false;
        }

        State = to;
        return true;
    }

    /// <summary>
    /// The keeper woke the lease at <paramref name="now"/>. Returns the TTL of the automatic
    /// extension to send now, or null when none is due; an extension returned is in flight until
    /// <see cref="AutomaticExtensionEnded"/>, and until then the next wake is the deadline.
    /// </summary>
    public TimeSpan? Due(long now)
    {
        if (State != LockState.Held)
        {
            return null;
        }

        if (now >= _stopExtendingAt)
        {
            // MaxHoldTime has passed: no extension is due any more, only the deadline. Left as it
            // was, a past _nextExtension would make NextWake wake this lease again at once, forever
            // (a fake clock's Advance never returned; a real one spun until the deadline).
            _nextExtension = long.MaxValue;
        }

        if (now >= _deadline || !_autoExtend || _extending || now < _nextExtension || now >= _stopExtendingAt)
        {
            return null;
        }

        _extending = true;
        return _extensionTtl;
    }

    /// <summary>
    /// The automatic extension returned by <see cref="Due"/> is over. One that got no answer is
    /// tried again soon (a tenth of the TTL, at least 5 ms, after <paramref name="now"/>); the
    /// deadline still comes if Redis stays away.
    /// </summary>
    public void AutomaticExtensionEnded(bool unanswered, TimeSpan ttl, long now)
    {
        _extending = false;
        if (unanswered)
        {
            _nextExtension = now + _time.Ticks(RetryInterval(ttl));
        }
    }

    /// <summary>
    /// An extension by <paramref name="ttl"/>, sent at <paramref name="sentAt"/>, succeeded on a
    /// majority. Extensions run one at a time, so the latest sent is the latest Redis ran: it sets
    /// the key's TTL, even a shorter one. Returns true when the deadline moved.
    /// </summary>
    public bool Extended(TimeSpan ttl, long sentAt)
    {
        if (State != LockState.Held || sentAt < _deadlineSentAt)
        {
            return false;
        }

        _deadline = DeadlineOf(ttl, sentAt);
        _deadlineSentAt = sentAt;
        _extensionTtl = ttl;
        _nextExtension = sentAt + _time.Ticks(ExtensionInterval(ttl));
        return true;
    }

    /// <summary>
    /// An extension by <paramref name="ttl"/>, sent at <paramref name="sentAt"/>, got no answer.
    /// Unanswered is not undone: it may still reach the nodes, late, and set a TTL shorter than the
    /// one the deadline counts on, so the key lives at least until the earlier of the two. Returns
    /// true when the deadline moved.
    /// </summary>
    public bool Unanswered(TimeSpan ttl, long sentAt)
    {
        var ifApplied = DeadlineOf(ttl, sentAt);
        if (State != LockState.Held || ifApplied >= _deadline)
        {
            return false;
        }

        _deadline = ifApplied;
        return true;
    }

    /// <summary>
    /// The timestamp before which a key set with <paramref name="ttl"/> by commands sent at
    /// <paramref name="sentAt"/> is certainly still there: the send time plus the TTL, less the drift allowance.
    /// </summary>
    private readonly long DeadlineOf(TimeSpan ttl, long sentAt) => sentAt + _time.Ticks(ttl - LockValidity.Drift(ttl, _driftFactor));

    // A MaxHoldTime of TimeSpan.MaxValue means no limit: the sum must not wrap around to the past.
    private static long SaturatingAdd(long timestamp, long ticks) =>
        ticks > long.MaxValue - timestamp ? long.MaxValue : timestamp + ticks;

    // Every third of the TTL: two extensions can fail (or be slow) before the key expires.
    private static TimeSpan ExtensionInterval(TimeSpan ttl) => ttl / 3;

    private static TimeSpan RetryInterval(TimeSpan ttl) => TimeSpan.FromTicks(Math.Max(ttl.Ticks / 10, TimeSpan.FromMilliseconds(5).Ticks));
}
