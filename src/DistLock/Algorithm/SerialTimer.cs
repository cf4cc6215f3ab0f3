namespace DistLock.Algorithm;

/// <summary>
/// A one-shot timer that any thread may set or dispose at any time, with no lock held and without
/// waiting. The library sets its timers with its own locks free, because a fake clock runs the timers
/// that are due inside <c>Change</c> (see docs/design.md); so a setting can meet another setting or
/// a disposal from another thread. <c>FakeTimeProvider</c>'s timers are not safe then: a setting can
/// register a wake whose callback a disposal has just cleared, and <c>Advance</c> then throws
/// <see cref="NullReferenceException"/>. Here each call records what it wants, and one thread at a
/// time applies the latest: a call that finds another applying returns at once, and the one applying
/// (which may be running due timers inside <c>Change</c>) picks it up after. A setting is a time on
/// the clock, turned into a delay when it is applied, so one applied late still fires on time.
/// An owner that decides the time under its own lock records it there (<see cref="Plan"/>), so the
/// latest decision is the latest wish, and applies it after the lock (<see cref="Apply"/>).
/// </summary>
internal sealed class SerialTimer : IDisposable
{
    // _at when no setting waits to be applied; what Next answers for the disposal.
    private const long Unset = long.MinValue;
    private const long Disposal = long.MinValue + 1;

    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _wanted = new();
    private long _at = Unset;
    private bool _disposeWanted;
    private bool _disposed;

    // 1 while a thread applies what was wanted.
    private int _applying;

    /// <summary>A timer for <paramref name="callback"/>, not set.</summary>
    public SerialTimer(TimeProvider time, TimerCallback callback, object state)
    {
        _time = time;
        _timer = time.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Records that the timer fires once at the timestamp <paramref name="at"/> (at once when it has
    /// passed), replacing the earlier setting; it takes effect at the next <see cref="Apply"/>. Safe
    /// under any lock: it reads no clock and runs nothing.
    /// </summary>
    public void Plan(long at)
    {
        lock (_wanted)
        {
            _at = at;
        }
    }

    /// <summary>Stops the timer for good. Safe under any lock: a disposal applies nothing else.</summary>
    public void Dispose()
    {
        lock (_wanted)
        {
            _disposeWanted = true;
        }

        Apply();
    }

    /// <summary>Applies what was planned, unless another thread is applying (then that one does); call it with no lock held.</summary>
    public void Apply()
    {
        while (Interlocked.CompareExchange(ref _applying, 1, 0) == 0)
        {
            try
            {
                while (Next() is { } at)
                {
                    if (at == Disposal)
                    {
                        _timer.Dispose();
                    }
                    else
                    {
                        var delay = _time.GetElapsedTime(_time.GetTimestamp(), at);
                        _timer.Change(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _applying, 0);
            }

            // Something wanted after the last look, by a call that found this thread applying: apply it too.
            lock (_wanted)
            {
                if (_at == Unset && (_disposed || !_disposeWanted))
                {
                    return;
                }
            }
        }
    }

    /// <summary>What to apply next: a time, <see cref="Disposal"/>, or null for nothing.</summary>
    private long? Next()
    {
        lock (_wanted)
        {
            var at = _at;
            _at = Unset;
            if (_disposed)
            {
                return null;
            }

            if (_disposeWanted)
            {
                _disposed = true;
                return Disposal;
            }

            return at == Unset ? null : at;
        }
    }
}
