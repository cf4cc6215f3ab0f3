namespace DistLock.Algorithm;

/// <summary>The caller's wait budget, measured with monotonic timestamps, and how many retries it allows.</summary>
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

    public WaitClock(TimeProvider time, TimeSpan timeout, int maxRetries = -1)
    {
        _time = time;
        _start = time.GetTimestamp();
        _timeout = IsForever(timeout) ? Timeout.InfiniteTimeSpan : timeout;
        MaxRetries = maxRetries;
    }

    /// <summary>Retries allowed after the first attempt; -1 for no limit but the timeout.</summary>
    public int MaxRetries { get; }

    public TimeSpan Elapsed => _time.GetElapsedTime(_start);

    /// <summary>
    /// Time left before the deadline (zero once it has passed), or null when waiting forever; never
    /// more than <see cref="LongestFiniteWait"/> nor negative, so it can always be passed to
    /// Task.WaitAsync: a negative value there would fault, or mean "forever" (-1 ms).
    /// </summary>
    public TimeSpan? Remaining
    {
        get
        {
            if (_timeout == Timeout.InfiniteTimeSpan)
            {
                return null;
            }

            var left = _timeout - Elapsed;
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>
    /// What is left of the call's bound, its timeout plus <paramref name="nodeTimeout"/> (an attempt
    /// started at the deadline ends within it); null when it waits forever. Clean-up after giving up
    /// is awaited only within it, so that a call returns at most a node timeout after its timeout.
    /// </summary>
    public TimeSpan? LeftOfBound(TimeSpan nodeTimeout) => _timeout == Timeout.InfiniteTimeSpan ? null : _timeout + nodeTimeout - Elapsed;

    /// <summary>
    /// <paramref name="timeout"/> rounded up to whole milliseconds, for a timer: timers count whole
    /// milliseconds (Task.WaitAsync truncates), so the fraction of one left before a deadline would be
    /// a wait of zero, and on a clock that moves only when told (a fake TimeProvider) a loop that
    /// waits again would never see the deadline pass.
    /// </summary>
    public static TimeSpan WholeMilliseconds(TimeSpan timeout) =>
        timeout > TimeSpan.Zero ? TimeSpan.FromMilliseconds(Math.Ceiling(timeout.TotalMilliseconds)) : timeout;

    /// <summary>True for a timeout that waits forever: infinite, or longer than <see cref="LongestFiniteWait"/>.</summary>
    public static bool IsForever(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan || timeout > LongestFiniteWait;
}
