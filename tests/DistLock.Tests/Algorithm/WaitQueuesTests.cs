using DistLock.Algorithm;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

public sealed class WaitQueuesTests
{
    /// <summary>
    /// A fake clock runs the timers that are due when a timer is created (FakeTimeProvider's
    /// AddWaiter does). When the last member left a queue, the queue's linger timer was created under
    /// the registry's lock, before the timer was recorded: a waiter woken there joined the queue on the
    /// same thread, found no linger to cancel and left the queue idle, with a member in it. An idle queue
    /// passes every wake on, so that member slept through every release.
    /// </summary>
    [Fact]
    public async Task Join_FromATimerRunWhileTheLastMemberLeaves_FindsTheQueueInUse()
    {
        var time = new TimerRunningClock();
        var queues = new WaitQueues([new FakeLockNode("node", time)], TimeSpan.FromSeconds(1), time);
        var hold = Holds.Exclusive("lock:{linger}");
        var queue = queues.Join(hold);
        WaitQueue? joined = null;
        time.OnCreateTimer = () => joined = queues.Join(hold);

        await queues.LeaveAsync(queue, acquired: true);
        time.OnCreateTimer = null;

        Assert.Same(queue, joined);
        queue.OnWake(new FakeLockNode("node", time), "a-release");
        Assert.Equal(1, queue.Releases);
    }

    /// <summary>A fake clock that runs <see cref="OnCreateTimer"/> when a timer is created, as a due timer would run there (never nested).</summary>
    private sealed class TimerRunningClock : FakeTimeProvider
    {
        public Action? OnCreateTimer { get; set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            var onCreate = OnCreateTimer;
            OnCreateTimer = null;
            onCreate?.Invoke();
            OnCreateTimer = onCreate;
            return timer;
        }
    }
}
