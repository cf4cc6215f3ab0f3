using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// A fake clock that runs <see cref="OnTimerSet"/> once, on the calling thread, the next time one of
/// its timers is set to fire (created with a due time, or changed to one), and <see cref="OnRead"/>
/// once, the next time it is read: where <see cref="FakeTimeProvider"/> runs the timers that are
/// due, so any continuation can run there.
/// </summary>
internal sealed class InlineTimersClock : FakeTimeProvider
{
    public Action? OnTimerSet { get; set; }

    public Action? OnRead { get; set; }

    public override DateTimeOffset GetUtcNow()
    {
        var now = base.GetUtcNow();
        if (OnRead is { } onRead)
        {
            OnRead = null;
            onRead();
        }

        return now;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SetHook(this, base.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        timer.Change(dueTime, period);
        return timer;
    }

    private void Set(TimeSpan dueTime)
    {
        if (dueTime != Timeout.InfiniteTimeSpan && OnTimerSet is { } onSet)
        {
            OnTimerSet = null;
            onSet();
        }
    }

    private sealed class SetHook(InlineTimersClock clock, ITimer timer) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = timer.Change(dueTime, period);
            clock.Set(dueTime);
            return changed;
        }

        public void Dispose() => timer.Dispose();

        public ValueTask DisposeAsync() => timer.DisposeAsync();
    }
}
