using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// A fake clock whose timers fire a little before they are due, as the system's timers can (they
/// count whole milliseconds): code that ends a wait on a timer must still not end it early.
/// </summary>
internal sealed class EarlyTimers(FakeTimeProvider time, TimeSpan early) : TimeProvider
{
    public override long TimestampFrequency => time.TimestampFrequency;

    public override long GetTimestamp() => time.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => time.GetUtcNow();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new Timer(time.CreateTimer(callback, state, Early(dueTime), period), this);

    private TimeSpan Early(TimeSpan due) => due > early ? due - early : due;

    private sealed class Timer(ITimer inner, EarlyTimers owner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(owner.Early(dueTime), period);

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
