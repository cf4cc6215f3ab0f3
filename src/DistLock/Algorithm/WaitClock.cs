namespace DistLock.Algorithm;

/// <summary>The caller's wait budget, measured with monotonic timestamps.</summary>
internal readonly struct WaitClock
{
    /// <summary>
    /// The longest wait <see cref="Task.WaitAsync(TimeSpan, TimeProvider)"/> accepts (2^32 - 2 ms,
    /// about 49.7 days). A longer timeout is taken as infinite: nobody can tell the difference, and
    /// a wait for longer would fault with an ArgumentOutOfRangeException instead of waiting.
    /// </summary>
    public static readonly TimeSpan LongestFiniteWait = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly TimeSpan _timeout;

    public WaitClock(TimeProvider time, TimeSpan timeout)
    {
        _time = time;
        _start = time.GetTimestamp();
        _timeout = timeout > LongestFiniteWait ? Timeout.InfiniteTimeSpan : timeout;
    }

    public TimeSpan Elapsed => _time.GetElapsedTime(_start);

    /// <summary>
    /// Time left before the deadline, or null when waiting forever; never more than
    /// <see cref="LongestFiniteWait"/>, so it can always be passed to Task.WaitAsync.
    /// </summary>
    public TimeSpan? Remaining => _timeout == Timeout.InfiniteTimeSpan ? null : _timeout - Elapsed;
}
