namespace DistLock.Algorithm;

/// <summary>
/// Counts the acquisitions under way and the clean-ups they leave behind (an attempt abandoned in
/// flight is given back when it lands), so that closing a manager can wait for them before its
/// connections close: a waiting set keeps members (Redis Cluster), and a release sent on a closed
/// connection leaves them held until their TTL.
/// </summary>
internal sealed class InFlightWork
{
    private int _count;
    private TaskCompletionSource? _idle;

    /// <summary>Counts one more piece of work; call <see cref="Exit"/> when it ends, whatever way.</summary>
    public void Enter() => Interlocked.Increment(ref _count);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0)
        {
            Volatile.Read(ref _idle)?.TrySetResult();
        }
    }

    /// <summary>
    /// Completes when no work is counted, or after <paramref name="bound"/>. Work entered after this
    /// is called may end it early at a moment when none is left; closing refuses new work first.
    /// </summary>
    public async Task WhenIdleAsync(TimeSpan bound, TimeProvider time)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _idle, idle);
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }

        await idle.Task.WaitAsync(bound, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
