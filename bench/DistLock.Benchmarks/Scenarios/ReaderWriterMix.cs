using DistLock.Benchmarks.Clients;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// W tasks in one process share one resource, each taking a read lock with probability
/// <c>readShare</c> and the exclusive (write) lock otherwise, holding it for a moment. Measures reads/s,
/// writes/s, how long writers waited (the writer-starvation question), violations (a writer
/// together with anyone) and server commands per acquisition. Rows: DistLock and madelson's
/// RedisDistributedReaderWriterLock (default and tuned busy-wait).
/// </summary>
public static class ReaderWriterMix
{
    public static readonly LockRow[] Rows = [LockRow.DistLock, LockRow.Madelson, LockRow.MadelsonTuned];

    public static async Task<ScenarioResult> RunAsync(string scenario, LockRow row, string endpoint, int workers, double readShare, TimeSpan duration)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint);
        await using var manager = new RedisLockManager(connection);
        await using var commands = await ServerCommands.ConnectAsync([endpoint]);
        var database = connection.GetDatabase();
        var resource = "rw:" + Guid.NewGuid().ToString("N")[..8];
        (TimeSpan, TimeSpan)? busyWait = row == LockRow.MadelsonTuned ? (TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5)) : null;
        var madelson = new RedisDistributedReaderWriterLock(resource, database, options =>
        {
            options.Expiry(TimeSpan.FromSeconds(30));
            if (busyWait is { } sleep)
            {
                options.BusyWaitSleepTime(sleep.Item1, sleep.Item2);
            }
        });

        async Task<IAsyncDisposable?> AcquireAsync(bool write, TimeSpan wait)
        {
            if (row == LockRow.DistLock)
            {
                return write ? await manager.TryAcquireAsync(resource, wait) : await manager.TryAcquireReadAsync(resource, wait);
            }

            return write ? await madelson.TryAcquireWriteLockAsync(wait) : await madelson.TryAcquireReadLockAsync(wait);
        }

        long reads = 0, writes = 0, violations = 0;
        int readers = 0, writers = 0;
        var writeWaits = new List<double>();
        var readWaits = new List<double>();
        var before = await commands.ReadAsync();
        var until = Stats.Now() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(id => Task.Run(async () =>
        {
            var random = new Random(id);
            while (true)
            {
                var t0 = Stats.Now();
                var left = Stats.Ms(t0, until);
                if (left <= 0)
                {
                    return;
                }

                var write = random.NextDouble() >= readShare;
                var handle = await AcquireAsync(write, TimeSpan.FromMilliseconds(left));
                var waited = Stats.Ms(t0, Stats.Now());
                lock (writeWaits)
                {
                    (write ? writeWaits : readWaits).Add(waited);
                }

                if (handle is null)
                {
                    return;
                }

                if (write)
                {
                    if (Interlocked.Increment(ref writers) != 1 || Volatile.Read(ref readers) != 0)
                    {
                        Interlocked.Increment(ref violations);
                    }

                    await Task.Yield();
                    Interlocked.Decrement(ref writers);
                    Interlocked.Increment(ref writes);
                }
                else
                {
                    Interlocked.Increment(ref readers);
                    if (Volatile.Read(ref writers) != 0)
                    {
                        Interlocked.Increment(ref violations);
                    }

                    await Task.Yield();
                    Interlocked.Decrement(ref readers);
                    Interlocked.Increment(ref reads);
                }

                await handle.DisposeAsync();
            }
        })));
        var executed = await commands.ReadAsync() - before;
        var seconds = duration.TotalSeconds;
        writeWaits.Sort();
        readWaits.Sort();
        return new ScenarioResult(scenario, row.Name, new Dictionary<string, string>
        {
            ["reads/s"] = (reads / seconds).ToString("F0"),
            ["writes/s"] = (writes / seconds).ToString("F0"),
            ["write wait p50 ms"] = Stats.Percentile(writeWaits, 50).ToString("F1"),
            ["write wait p99 ms"] = Stats.Percentile(writeWaits, 99).ToString("F1"),
            ["write wait max ms"] = (writeWaits.Count == 0 ? double.NaN : writeWaits[^1]).ToString("F0"),
            ["read wait p99 ms"] = Stats.Percentile(readWaits, 99).ToString("F1"),
            ["violations"] = violations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["server cmds/acq"] = (reads + writes == 0 ? double.NaN : (double)executed / (reads + writes)).ToString("F1"),
        });
    }
}
