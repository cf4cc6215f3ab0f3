using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

public sealed class WaitQueueTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TakenNews_AWriterSleepsOnToTheHoldersTtl_AReaderDoesNot()
    {
        // Regression: readers behind a reader's take heard "taken for 30 s" and, when the wake that
        // followed was used up by a split vote on Redlock, slept to their deadline (the reader-writer
        // test over two live nodes and one dead failed so, with "woken, not retried: 9.8 s").
        var node = new FakeLockNode("node", _time);
        var writer = new WaitQueue([node], Holds.Exclusive("lock:{r}"), TimeSpan.FromSeconds(1), _time);
        var reader = new WaitQueue([node], new ReadHold("lock:{r}"), TimeSpan.FromSeconds(1), _time);

        writer.OnNews("c:30000");
        reader.OnNews("c:30000");

        Assert.Equal(TimeSpan.FromSeconds(30), writer.HeldFor);
        Assert.Equal(TimeSpan.Zero, reader.HeldFor);
    }

    [Fact]
    public void TakenNews_OfTheQueuesOwnTake_IsNotNews_AnotherQueuesIs()
    {
        // A Redlock round that split may give the queue's own take up by releasing it, with no news
        // after: counting on it, the queue slept past the release to its own take's TTL (RivalTurnTests).
        var node = new FakeLockNode("node", _time);
        var queue = new WaitQueue([node], Holds.Exclusive("lock:{r}"), TimeSpan.FromSeconds(1), _time);

        queue.OnNews($"c:30000:{queue.Id}");
        Assert.Equal(TimeSpan.Zero, queue.HeldFor);

        queue.OnNews("c:20000:another-queue");
        Assert.Equal(TimeSpan.FromSeconds(20), queue.HeldFor);

        // Anything else on the channel is no news (and reading it throws nothing).
        foreach (var other in new[] { "", "c", "x:1", "c:soon:q" })
        {
            queue.OnNews(other);
        }

        Assert.Equal(TimeSpan.FromSeconds(20), queue.HeldFor);
    }

    /// <summary>
    /// The news that a turn was handed ahead sets a timer to look again; setting a timer can run due
    /// timers on the same thread (a fake clock's), so the queue sets it with its lock free, and a
    /// continuation run there that needs the queue from another thread goes through.
    /// </summary>
    [Fact]
    public void SettingTheLookAgainTimer_HoldsNotTheQueue()
    {
        var time = new InlineTimersClock();
        var queue = new WaitQueue([new FakeLockNode("node", time)], Holds.Exclusive("lock:{r}"), TimeSpan.FromSeconds(1), time);
        var blocked = true;
        time.OnTimerSet = () => blocked = !Task.Run(() => queue.Snapshot()).Wait(TimeSpan.FromSeconds(5));

        queue.OnNews("h:50");

        Assert.False(blocked);
    }

    /// <summary>Keeping the queue's place reads the clock with the queue free: a reading can run due timers (a fake clock's).</summary>
    [Fact]
    public void KeepingThePlace_ReadsTheClockWithTheQueueFree()
    {
        var time = new InlineTimersClock();
        var queue = new WaitQueue([new FakeLockNode("node", time)], Holds.Exclusive("lock:{r}"), TimeSpan.FromSeconds(1), time);
        var blocked = true;
        time.OnRead = () => blocked = !Task.Run(() => queue.Snapshot()).Wait(TimeSpan.FromSeconds(5));

        queue.KeptPlace(TimeSpan.FromSeconds(30));

        Assert.False(blocked);
        Assert.Equal(TimeSpan.FromSeconds(30), queue.HeldFor);
    }
}
