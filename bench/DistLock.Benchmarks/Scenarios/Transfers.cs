using System.Globalization;
using DistLock.Benchmarks.Clients;
using Medallion.Threading;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// Several resources at once: W tasks in one process move one unit between two random accounts,
/// each transfer taking both accounts' locks together, checking that no other transfer is on
/// either account, and giving both back. Measures transfers per second, the wait to hold both,
/// fairness, violations (an account in two transfers at once, or units lost), errors and server
/// commands per transfer. DistLock takes the pair with <c>TryAcquireAllAsync</c>, named in the
/// transfer's own order (it promises that the order does not matter); madelson's
/// DistributedLock.Redis with its composite <c>TryAcquireAllLocksAsync</c>, which takes the locks
/// one after another in the order given under one time budget and releases what it took when one
/// fails. Two transfers naming a pair in opposite orders would then each hold one lock and wait
/// for the other until the budget runs out, so the peer is given the names sorted (ordinal): a
/// global order, with which it cannot deadlock.
/// </summary>
public static class Transfers
{
    public static IReadOnlyList<LockRow> Rows { get; } = [LockRow.DistLock, LockRow.Madelson, LockRow.MadelsonTuned];

    /// <summary>The two scenarios: many accounts (pairs rarely collide) and a few hot ones.</summary>
    public static IReadOnlyList<int> AccountCounts { get; } = [1000, HotAccounts];

    public const int HotAccounts = 8;

    public const int Workers = 32;

    public static string Name(int accounts) =>
        $"Transfers between random pairs of {accounts.ToString("N0", CultureInfo.InvariantCulture)} accounts, {Workers} tasks";

    public static async Task<ScenarioResult> RunAsync(LockRow row, string endpoint, int accounts, TimeSpan duration)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint);
        await using var manager = new RedisLockManager(connection);
        await using var commands = await ServerCommands.ConnectAsync([endpoint]);
        var acquire = Acquirer(row, manager, connection.GetDatabase());
        var prefix = "acct:" + Guid.NewGuid().ToString("N")[..8] + ":";
        var names = Enumerable.Range(0, accounts).Select(i => prefix + i.ToString("D4", CultureInfo.InvariantCulture)).ToArray();
        var tally = new HotKeyTally(Workers);
        var busy = new int[accounts];
        var balances = new long[accounts];
        long errors = 0;

        var before = await commands.ReadAsync();
        var until = Stats.Now() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency);
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(id => Task.Run(async () =>
        {
            var random = new Random(id); // picks pairs only: reproducible runs, nothing to guard
            while (true)
            {
                var from = random.Next(accounts);
                var to = (from + 1 + random.Next(accounts - 1)) % accounts;
                var t0 = Stats.Now();
                var left = Stats.Ms(t0, until);
                if (left <= 0)
                {
                    return;
                }

                IAsyncDisposable? handle;
                try
                {
                    handle = await acquire([names[from], names[to]], TimeSpan.FromMilliseconds(left));
                }
                catch (Exception e) when (e is DistLockException or RedisException or TimeoutException)
                {
                    if (Interlocked.Increment(ref errors) == 1)
                    {
                        Console.Error.WriteLine($"{row.Name}: {e.GetType().Name}: {e.Message}");
                    }

                    continue;
                }

                var waited = Stats.Ms(t0, Stats.Now());
                if (handle is null)
                {
                    tally.Starved(id, waited); // waited until the end of the run
                    return;
                }

                var clash = Interlocked.Exchange(ref busy[from], 1) != 0;
                clash |= Interlocked.Exchange(ref busy[to], 1) != 0;
                if (clash)
                {
                    tally.Violation();
                }

                // Not atomic on purpose: two transfers on one account at once could lose a unit.
                balances[from]--;
                await Task.Yield();
                balances[to]++;
                tally.Acquired(id, waited, switched: true); // every transfer counts; "switches" are not reported
                Volatile.Write(ref busy[from], 0);
                Volatile.Write(ref busy[to], 0);
                await handle.DisposeAsync();
            }
        })));
        var executed = await commands.ReadAsync() - before;
        if (balances.Sum() != 0)
        {
            tally.Violation();
        }

        var tallied = tally.ToResult(Name(accounts), row.Name, duration, executed).Metrics;
        return new ScenarioResult(Name(accounts), row.Name, new Dictionary<string, string>
        {
            ["transfers/s"] = tallied["handoffs/s"],
            ["wait p50 ms"] = tallied["wait p50 ms"],
            ["wait p99 ms"] = tallied["wait p99 ms"],
            ["wait max ms"] = tallied["wait max ms"],
            ["fairness min/max"] = tallied["fairness min/max"],
            ["violations"] = tallied["violations"],
            ["errors"] = errors.ToString(CultureInfo.InvariantCulture),
            ["server cmds/transfer"] = tallied["server cmds/acq"],
        });
    }

    /// <summary>
    /// The targets: DistLock's transfers/s at least the peer's in both scenarios; on the hot accounts,
    /// DistLock's max wait at most a tenth of the peer's (default settings) and at most 100 ms.
    /// </summary>
    public static IEnumerable<string> Verdicts(IReadOnlyList<ScenarioResult> results)
    {
        static string Check(bool ok, string text) => $"{(ok ? "met" : "NOT met")}: {text}";
        foreach (var accounts in AccountCounts)
        {
            double Metric(LockRow row, string metric) =>
                results.FirstOrDefault(r => r.Scenario == Name(accounts) && r.Row == row.Name) is { } result
                    ? double.Parse(result.Metrics[metric], CultureInfo.InvariantCulture)
                    : double.NaN;
            var rate = Metric(LockRow.DistLock, "transfers/s");
            if (double.IsNaN(rate))
            {
                continue;
            }

            var peer = Metric(LockRow.Madelson, "transfers/s");
            var tuned = Metric(LockRow.MadelsonTuned, "transfers/s");
            yield return Check(rate >= peer && rate >= tuned,
                $"{Name(accounts)}: {rate:F0} transfers/s, {rate / peer:F2}x the peer's default ({peer:F0}) and {rate / tuned:F2}x its tuned ({tuned:F0}); >= 1.0");
            if (accounts == HotAccounts)
            {
                var maxWait = Metric(LockRow.DistLock, "wait max ms");
                var peerMax = Metric(LockRow.Madelson, "wait max ms");
                var tunedMax = Metric(LockRow.MadelsonTuned, "wait max ms");
                yield return Check(maxWait <= peerMax / 10 && maxWait <= 100,
                    $"{Name(accounts)}: max wait {maxWait:F0} ms, {maxWait / peerMax:F3}x the peer's default ({peerMax:F0} ms; <= 0.1) and <= 100 ms; its tuned: {tunedMax:F0} ms");
            }
        }
    }

    private static Func<string[], TimeSpan, Task<IAsyncDisposable?>> Acquirer(LockRow row, RedisLockManager manager, IDatabase database)
    {
        if (row == LockRow.DistLock)
        {
            return async (pair, wait) => await manager.TryAcquireAllAsync(pair, wait);
        }

        var tuned = row == LockRow.MadelsonTuned;
        var provider = new RedisDistributedSynchronizationProvider(database, options =>
        {
            options.Expiry(TimeSpan.FromSeconds(30));
            if (tuned)
            {
                options.BusyWaitSleepTime(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));
            }
        });
        return async (pair, wait) =>
        {
            // The peer takes the locks in the order given: one global order (ordinal) so that it cannot deadlock.
            Array.Sort(pair, StringComparer.Ordinal);
            return await provider.TryAcquireAllLocksAsync(pair, wait);
        };
    }
}
