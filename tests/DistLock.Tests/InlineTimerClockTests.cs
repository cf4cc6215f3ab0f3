using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests;

/// <summary>
/// <see cref="FakeTimeProvider"/> runs the timers that are due inside <c>GetUtcNow</c> and
/// <c>GetTimestamp</c>, on the thread that reads the clock, whenever no other thread is running them
/// (between <c>Advance</c> setting the time and its own wake-up, a reader on another thread gets
/// there first). So a clock reading can run any continuation inline. The in-memory node read the
/// clock inside its scripts: a waiter woken there ran its own script on the same thread, re-entered
/// the node, and the first script went on with the second one's keys ("Lua redis lib command
/// arguments must be strings or integers" from acquire-all, found by a random-step review).
/// </summary>
public sealed class InlineTimerClockTests
{
    [Fact]
    public async Task Scripts_WhenEveryClockReadingRunsOtherCallsInline_DoNotMix()
    {
        var clock = new InlineCallsClock();
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = clock });
        var inline = new ConcurrentQueue<Task<bool>>();
        var started = 0;
        clock.OnRead = () =>
        {
            var n = Interlocked.Increment(ref started);
            if (n <= 400)
            {
                inline.Enqueue(TakeAndLetGoAsync(locks, $"inline-{n % 3}"));
            }
        };

        for (var round = 0; round < 20; round++)
        {
            await using (var all = await locks.TryAcquireAllAsync(["a", "b", "c"]))
            {
                Assert.NotNull(all);
            }

            await using (var read = await locks.TryAcquireReadAsync("a"))
            {
                Assert.NotNull(read);
            }

            await using (var permit = await locks.TryAcquireSemaphoreAsync("pool", 2))
            {
                Assert.NotNull(permit);
            }

            await using (var one = await locks.TryAcquireAsync("b"))
            {
                Assert.NotNull(one);
            }
        }

        clock.OnRead = null;
        Assert.NotEmpty(inline);
        foreach (var call in inline)
        {
            // Each ran on its own name (busy ones say false); none may throw.
            await call.WaitAsync(TimeSpan.FromSeconds(10));
        }

        foreach (var name in new[] { "a", "b", "c", "inline-0", "inline-1", "inline-2" })
        {
            await using var after = await locks.TryAcquireAsync(name);
            Assert.NotNull(after);
        }
    }

    private static async Task<bool> TakeAndLetGoAsync(InMemoryLockManager locks, string name)
    {
        var handle = await locks.TryAcquireAsync(name);
        if (handle is null)
        {
            return false;
        }

        await handle.ReleaseAsync();
        return true;
    }

    /// <summary>A fake clock that runs <see cref="OnRead"/> at every reading, as a due timer would run there (never nested).</summary>
    private sealed class InlineCallsClock : FakeTimeProvider
    {
        [ThreadStatic]
        private static bool t_reading;

        public Action? OnRead { get; set; }

        public override DateTimeOffset GetUtcNow()
        {
            var now = base.GetUtcNow();
            if (!t_reading && OnRead is { } onRead)
            {
                t_reading = true;
                try
                {
                    onRead();
                }
                finally
                {
                    t_reading = false;
                }
            }

            return now;
        }
    }
}
