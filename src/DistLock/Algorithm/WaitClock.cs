namespace DistLock.Algorithm;

/// <summary>The caller's wait budget, measured with monotonic timestamps.</summary>
internal readonly struct WaitClock
{
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly TimeSpan _timeout;

    public WaitClock(TimeProvider time, TimeSpan timeout)
    {
        _time = time;
        _start = time.GetTimestamp();
        _timeout = timeout;
    }

    public TimeSpan Elapsed => _time.GetElapsedTime(_start);

    /// <summary>Time left before the deadline, or null when waiting forever.</summary>
    public TimeSpan? Remaining => _timeout == Timeout.InfiniteTimeSpan ? null : _timeout - Elapsed;
}
