using DistLock.Algorithm;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

public sealed class SerialTimerTests
{
    /// <summary>
    /// FakeTimeProvider's timers break when a Change meets a Dispose from another thread (Advance then
    /// throws NullReferenceException: a review's stress run hit it once the library set timers with
    /// its locks free). A queue's look-again timer is set by the line's news and dropped by a wake on
    /// other threads; no two of those calls may reach the timer at once.
    /// </summary>
    [Fact]
    public async Task LookAgainTimer_SetAndDroppedFromTwoThreads_NeverCalledAtOnce()
    {
        var time = new OverlapClock();
        var queue = new WaitQueue([new FakeLockNode("node", time)], Holds.Exclusive("lock:{r}"), TimeSpan.FromSeconds(1), time);
        using var start = new Barrier(2);
        await Task.WhenAll(
            Task.Factory.StartNew(() => Repeat(start, () => queue.OnNews("h:50")), TaskCreationOptions.LongRunning),
            Task.Factory.StartNew(() => Repeat(start, queue.MemberLetIn), TaskCreationOptions.LongRunning));

        Assert.True(time.Calls > 0);
        Assert.Equal(0, time.Overlaps);
    }

    [Fact]
    public void Change_FromACallbackRunInsideChange_OnTheSameThreadOrAnother_NeitherWaitsNorIsLost()
    {
        var time = new InlineTimersClock();
        var fired = 0;
        var timer = new SerialTimer(time, _ => Interlocked.Increment(ref fired), new object());
        var other = true;
        time.OnTimerSet = () =>
        {
            Set(timer, time, TimeSpan.FromSeconds(2));
            other = Task.Run(() => Set(timer, time, TimeSpan.FromSeconds(3))).Wait(TimeSpan.FromSeconds(5));
        };

        Set(timer, time, TimeSpan.FromSeconds(1));

        Assert.True(other);
        time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(0, fired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void ASettingAppliedLate_FiresAtItsTime_NotLater()
    {
        var time = new InlineTimersClock();
        var fired = 0;
        var timer = new SerialTimer(time, _ => Interlocked.Increment(ref fired), new object());
        time.OnTimerSet = () =>
        {
            // While the first setting is applied, another asks for 1 s from now and the clock moves
            // 5 s on before it is applied: its time has passed, so it fires at once.
            Set(timer, time, TimeSpan.FromSeconds(1));
            time.Advance(TimeSpan.FromSeconds(5));
        };

        Set(timer, time, TimeSpan.FromSeconds(10));

        Assert.Equal(1, fired);
    }

    [Fact]
    public void Dispose_WhileAnotherThreadSetsIt_LeavesItStopped()
    {
        var time = new InlineTimersClock();
        var fired = 0;
        var timer = new SerialTimer(time, _ => Interlocked.Increment(ref fired), new object());
        time.OnTimerSet = () => Task.Run(timer.Dispose).Wait(TimeSpan.FromSeconds(5));

        Set(timer, time, TimeSpan.FromSeconds(1));
        Set(timer, time, TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(0, fired);
    }

    /// <summary>Plans the timer <paramref name="due"/> from now and applies it, as an owner does after its lock.</summary>
    private static void Set(SerialTimer timer, TimeProvider time, TimeSpan due)
    {
        timer.Plan(time.GetTimestamp() + time.Ticks(due));
        timer.Apply();
    }

    private static void Repeat(Barrier start, Action call)
    {
        start.SignalAndWait();
        for (var i = 0; i < 10_000; i++)
        {
            call();
        }
    }

    /// <summary>A fake clock whose timers count calls that overlap another call to the same timer (each call lasts a little while).</summary>
    private sealed class OverlapClock : FakeTimeProvider
    {
        private int _overlaps;
        private int _calls;

        public int Overlaps => Volatile.Read(ref _overlaps);

        public int Calls => Volatile.Read(ref _calls);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            new Watched(this, base.CreateTimer(callback, state, dueTime, period));

        private sealed class Watched(OverlapClock clock, ITimer timer) : ITimer
        {
            private int _inside;

            public bool Change(TimeSpan dueTime, TimeSpan period) => Enter(() => timer.Change(dueTime, period));

            public void Dispose() => Enter(() =>
            {
                timer.Dispose();
                return true;
            });

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }

            private bool Enter(Func<bool> call)
            {
                Interlocked.Increment(ref clock._calls);
                if (Interlocked.Increment(ref _inside) > 1)
                {
                    Interlocked.Increment(ref clock._overlaps);
                }

                try
                {
                    Thread.SpinWait(5000);
                    return call();
                }
                finally
                {
                    Interlocked.Decrement(ref _inside);
                }
            }
        }
    }
}
