namespace DistLock.Algorithm;

/// <summary>
/// A one-shot timer that any thread may set or dispose at any time, with no lock held and without
/// waiting. The library sets its timers with its own locks free, because a fake clock runs the timers
/// that are due inside <c>Change</c> (see docs/design.md); so a setting can meet another setting or
/// a disposal from another thread. <c>FakeTimeProvider</c>'s timers are not safe then: a setting can
/// register a wake whose callback a disposal has just cleared, and <c>Advance</c> then throws
/// <see cref="NullReferenceException"/>. Here each call records what it wants, and one thread at a
/// time applies the latest: a call that finds another applying returns at once, and the one applying
/// (which may be running due timers inside <c>Change</c>) picks it up after.
/// </summary>
internal sealed class SerialTimer : IDisposable
{
    // _due when no setting waits to be applied; what Next answers for the disposal.
    private static readonly TimeSpan Unset = TimeSpan.MinValue;
    private static readonly TimeSpan Disposal = TimeSpan.MaxValue;

    private readonly ITimer _timer;
    private readonly Lock _wanted = new();
    private TimeSpan _due = Unset;
    private bool _disposeWanted;
    private bool _disposed;

    // 1 while a thread applies what was wanted.
    private int _applying;

    /// <summary>A timer for <paramref name="callback"/>, not set.</summary>
    public SerialTimer(TimeProvider time, TimerCallback callback, object state) =>
        _timer = time.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>Fires once after <paramref name="dueTime"/> (<see cref="Timeout.InfiniteTimeSpan"/>: not at all), replacing the earlier setting.</summary>
    public void Change(TimeSpan dueTime)
    {
        lock (_wanted)
        {
            _due = dueTime;
        }

        Apply();
    }

    public void Dispose()
    {
        lock (_wanted)
        {
            _disposeWanted = true;
        }

        Apply();
    }

    private void Apply()
    {
        while (Interlocked.CompareExchange(ref _applying, 1, 0) == 0)
        {
            try
            {
                while (Next() is { } due)
                {
                    if (due == Disposal)
                    {
                        _timer.Dispose();
                    }
                    else
                    {
                        _timer.Change(due, Timeout.InfiniteTimeSpan);
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
                if (_due == Unset && (_disposed || !_disposeWanted))
                {
                    return;
                }
            }
        }
    }

    /// <summary>What to apply next: a setting, <see cref="Disposal"/>, or null for nothing.</summary>
    private TimeSpan? Next()
    {
        lock (_wanted)
        {
            var due = _due;
            _due = Unset;
            if (_disposed)
            {
                return null;
            }

            if (_disposeWanted)
            {
                _disposed = true;
                return Disposal;
            }

            return due == Unset ? null : due;
        }
    }
}
