using System.Globalization;
using DistLock.Benchmarks.Clients;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// Leader election's hand-over: a leader and a candidate waiting for it, each with its own
/// connection (two processes). Graceful: the leader resigns; how long until the candidate leads?
/// Crash: the leader's connection closes without a release; how long until the candidate leads,
/// against the lease (2 s)? DistLock's election against the loop users write today with madelson's
/// lock (acquire with an infinite wait, run while held), with its default and tuned busy-wait.
/// </summary>
public static class Failover
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    public static async Task<List<ScenarioResult>> RunAsync(string endpoint, int rounds)
    {
        var results = new List<ScenarioResult>();
        foreach (var (row, busyWait) in new (string, (TimeSpan, TimeSpan)?)[]
        {
            (LockRow.DistLock.Name, null),
            (LockRow.Madelson.Name, null),
            (LockRow.MadelsonTuned.Name, (TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5))),
        })
        {
            var graceful = new List<double>();
            var crash = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var name = "failover:" + Guid.NewGuid().ToString("N")[..8];
                graceful.Add(row == LockRow.DistLock.Name ? await DistLockAsync(endpoint, name, crash: false) : await MadelsonAsync(endpoint, name, busyWait, crash: false));
                name = "failover:" + Guid.NewGuid().ToString("N")[..8];
                crash.Add(row == LockRow.DistLock.Name ? await DistLockAsync(endpoint, name, crash: true) : await MadelsonAsync(endpoint, name, busyWait, crash: true));
            }

            graceful.Sort();
            crash.Sort();
            var result = new ScenarioResult("Leader failover, one node", row, new Dictionary<string, string>
            {
                ["rounds"] = rounds.ToString(CultureInfo.InvariantCulture),
                ["graceful p50 ms"] = Stats.Percentile(graceful, 50).ToString("F1", CultureInfo.InvariantCulture),
                ["graceful max ms"] = graceful[^1].ToString("F1", CultureInfo.InvariantCulture),
                ["crash p50 ms"] = Stats.Percentile(crash, 50).ToString("F0", CultureInfo.InvariantCulture),
                ["crash max ms"] = crash[^1].ToString("F0", CultureInfo.InvariantCulture),
                ["lease ms"] = Lease.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            });
            Console.WriteLine($"{result.Row} | {string.Join(", ", result.Metrics.Select(m => $"{m.Key} {m.Value}"))}");
            results.Add(result);
        }

        return results;
    }

    private static async Task<double> DistLockAsync(string endpoint, string name, bool crash)
    {
        var options = new RedisLockManagerOptions { Defaults = { Ttl = Lease } };
        var leaderLocks = await RedisLockManager.ConnectAsync(endpoint, options);
        await using var candidateLocks = await RedisLockManager.ConnectAsync(endpoint, options);
        await using var candidate = candidateLocks.CreateElection(name);
        var leaderElection = leaderLocks.CreateElection(name);
        var term = await leaderElection.WaitForLeadershipAsync();
        var waiting = candidate.WaitForLeadershipAsync();
        while ((await candidateLocks.InspectAsync(name)).Waiters < 1)
        {
            await Task.Delay(1);
        }

        var started = Stats.Now();
        if (crash)
        {
            // A process that dies releases nothing: its connection goes, its lease runs out.
            await leaderLocks.DisposeAsync();
        }
        else
        {
            await term.ResignAsync();
        }

        await using var next = await waiting;
        var elapsed = Stats.Ms(started, Stats.Now());
        await leaderElection.DisposeAsync();
        await leaderLocks.DisposeAsync();
        return elapsed;
    }

    private static async Task<double> MadelsonAsync(string endpoint, string name, (TimeSpan Min, TimeSpan Max)? busyWait, bool crash)
    {
        var leaderConnection = await ConnectionMultiplexer.ConnectAsync(endpoint);
        await using var candidateConnection = await ConnectionMultiplexer.ConnectAsync(endpoint);
        RedisDistributedLock Lock(IConnectionMultiplexer connection) => new(name, connection.GetDatabase(), options =>
        {
            options.Expiry(Lease);
            if (busyWait is { } sleep)
            {
                options.BusyWaitSleepTime(sleep.Min, sleep.Max);
            }
        });

        var held = await Lock(leaderConnection).AcquireAsync();
        var waiting = Lock(candidateConnection).AcquireAsync().AsTask();
        await Task.Delay(20); // the candidate's first attempt has been refused: it is in its busy-wait loop
        var started = Stats.Now();
        if (crash)
        {
            await leaderConnection.CloseAsync(allowCommandsToComplete: false);
        }
        else
        {
            await held.DisposeAsync();
        }

        await using var next = await waiting;
        var elapsed = Stats.Ms(started, Stats.Now());
        if (crash)
        {
            try
            {
                await held.DisposeAsync();
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException or AggregateException)
            {
                // Its connection is gone, as in a crash.
            }
        }

        await leaderConnection.DisposeAsync();
        return elapsed;
    }
}
