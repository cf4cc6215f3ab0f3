using DistLock.Algorithm;

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
        var time = new InlineTimersClock();
        var queues = new WaitQueues([new FakeLockNode("node", time)], TimeSpan.FromSeconds(1), time);
        var hold = Holds.Exclusive("lock:{linger}");
        var queue = queues.Join(hold);
        WaitQueue? joined = null;
        time.OnTimerSet = () => joined = queues.Join(hold);

        await queues.LeaveAsync(queue, acquired: true);

        Assert.Same(queue, joined);
        queue.OnWake(new FakeLockNode("node", time), "a-release");
        Assert.Equal(1, queue.Releases);
    }

    /// <summary>
    /// Setting a timer can run due timers on the same thread (a fake clock's): the registry set the
    /// linger timer while it held its lock, so a continuation run there that needed the registry from
    /// another thread waited, and one that another thread waited for deadlocked.
    /// </summary>
    [Fact]
    public async Task SettingTheLingerTimer_HoldsNotTheRegistry()
    {
        var time = new InlineTimersClock();
        var queues = new WaitQueues([new FakeLockNode("node", time)], TimeSpan.FromSeconds(1), time);
        var queue = queues.Join(Holds.Exclusive("lock:{linger}"));
        var blocked = true;
        time.OnTimerSet = () => blocked = !Task.Run(() => queues.Count).Wait(TimeSpan.FromSeconds(5));

        await queues.LeaveAsync(queue, acquired: true);

        Assert.False(blocked);
    }
}
