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

    /// <summary>
    /// Timers count whole milliseconds (Task.WaitAsync truncates its timeout): a wait for the fraction
    /// of a millisecond left before the deadline ended at once, the lock was still busy, and on a fake
    /// clock, which moves only when told, the waiter asked again for ever inside Advance.
    /// </summary>
    [Theory]
    [InlineData(39.4, 39.1)]
    [InlineData(40.5, 40)]
    [InlineData(2000.5, 2000.2)]
    public async Task Acquire_LessThanAMillisecondLeft_WaitsForTheFakeClock_InsteadOfAskingForEver(double timeoutMs, double advanceMs)
    {
        var time = new FakeTimeProvider();
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = time });
        await using var held = await locks.AcquireAsync(new LockRequest("busy") { Ttl = TimeSpan.FromSeconds(30) });
        var waiting = locks.AcquireAsync(new LockRequest("busy") { Timeout = Milliseconds(timeoutMs) });
        Assert.True(await FakeClock.PollAsync(() => locks.Waiters.HasMembers(held.Key)));

        await Task.Run(() => time.Advance(Milliseconds(advanceMs))).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(waiting.IsCompleted, "the wait ended before its deadline");
        await Task.Run(() => time.Advance(TimeSpan.FromMilliseconds(1))).WaitAsync(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<LockTimeoutException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static TimeSpan Milliseconds(double ms) => TimeSpan.FromTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond));

    private sealed class SteppingTime(TimeSpan step) : TimeProvider
    {
        private long _offset;

        public override long GetTimestamp() =>
            base.GetTimestamp() + Interlocked.Add(ref _offset, (long)(step.TotalSeconds * TimestampFrequency));
    }
}
