namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// The loop of the hot-key scenarios: W tasks take something, check that no more than
/// <c>limit</c> are inside, and give it back at once, until the run ends. The tally counts
/// acquisitions, waits, switches (the next holder is another task) and violations.
/// </summary>
public static class HotLoop
{
    public static Task RunAsync(int workers, TimeSpan duration, int limit, HotKeyTally tally, Func<TimeSpan, Task<IAsyncDisposable?>> acquire)
    {
        var inside = 0;
        var lastHolder = -1;
        var until = Stats.Now() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency);
        return Task.WhenAll(Enumerable.Range(0, workers).Select(id => Task.Run(async () =>
        {
            while (true)
            {
                var t0 = Stats.Now();
                var left = Stats.Ms(t0, until);
                if (left <= 0)
                {
                    return;
                }

                var handle = await acquire(TimeSpan.FromMilliseconds(left));
                var waited = Stats.Ms(t0, Stats.Now());
                if (handle is null)
                {
                    tally.Starved(id, waited); // waited until the end of the run
                    return;
                }

                if (Interlocked.Increment(ref inside) > limit)
                {
                    tally.Violation();
                }

                tally.Acquired(id, waited, Interlocked.Exchange(ref lastHolder, id) != id);
                Interlocked.Decrement(ref inside);
                await handle.DisposeAsync();
            }
        })));
    }
}
