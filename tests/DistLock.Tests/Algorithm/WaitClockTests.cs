using DistLock.Algorithm;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>The wait budget never hands Task.WaitAsync a negative timeout (it would fault, or mean "forever").</summary>
public sealed class WaitClockTests
{
    [Fact]
    public void Remaining_PastTheDeadline_IsZero_NotNegative()
    {
        var time = new FakeTimeProvider();
        var wait = new WaitClock(time, TimeSpan.FromMilliseconds(10));

        time.Advance(TimeSpan.FromMilliseconds(11.5));

        Assert.Equal(TimeSpan.Zero, wait.Remaining);
    }

    [Fact]
    public void TimeoutsBeyondTheLongestTimer_AreForever()
    {
        Assert.True(WaitClock.IsForever(TimeSpan.MaxValue));
        Assert.True(WaitClock.IsForever(TimeSpan.FromDays(100)));
        Assert.True(WaitClock.IsForever(Timeout.InfiniteTimeSpan));
        Assert.False(WaitClock.IsForever(TimeSpan.FromDays(1)));
        Assert.Null(new WaitClock(TimeProvider.System, TimeSpan.MaxValue).Remaining);
    }

    /// <summary>
    /// A clock that moves on a few milliseconds at every reading, as a thread stalled between two
    /// readings sees it: the deadline passes between the loop's check and its sleep.
    /// </summary>
    [Theory]
    [InlineData(1.5, 9.25)]
    [InlineData(2, 12.25)]
    [InlineData(3, 18.5)]
    [InlineData(3, 19.25)]
    public async Task TryAcquire_DeadlinePassingMidLoop_ReturnsNull_NeitherThrowsNorHangs(double stepMs, double timeoutMs)
    {
        await using var holder = new InMemoryLockManager();
        await using var waiter = new InMemoryLockManager(holder, new LockManagerOptions { TimeProvider = new SteppingTime(TimeSpan.FromMilliseconds(stepMs)) });
        await using var held = await holder.AcquireAsync("stepped");

        var attempt = await waiter.TryAcquireAsync("stepped", TimeSpan.FromMilliseconds(timeoutMs)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Null(attempt);
    }

    private sealed class SteppingTime(TimeSpan step) : TimeProvider
    {
        private long _offset;

        public override long GetTimestamp() =>
            base.GetTimestamp() + Interlocked.Add(ref _offset, (long)(step.TotalSeconds * TimestampFrequency));
    }
}
