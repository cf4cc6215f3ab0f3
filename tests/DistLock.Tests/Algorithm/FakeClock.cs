using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

internal static class FakeClock
{
    /// <summary>Moves the fake clock forward in steps until <paramref name="task"/> completes.</summary>
    public static async Task<T> AdvanceUntilDoneAsync<T>(this FakeTimeProvider time, Task<T> task, TimeSpan step, int maxSteps = 10_000)
    {
        for (var i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            // Let continuations scheduled by the previous step run and arm their next timer.
            await Task.Delay(1);
            if (!task.IsCompleted)
            {
                time.Advance(step);
            }
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Polls <paramref name="condition"/> on the real clock (work the fake clock started runs on
    /// the thread pool) for up to five seconds; returns its final value.
    /// </summary>
    public static async Task<bool> PollAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        return condition();
    }
}
