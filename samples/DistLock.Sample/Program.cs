// Two workers, each with its own RedisLockManager and connection (as two processes would have),
// take turns on one lock that guards a read-modify-write of a shared counter. At the end the
// counter must equal the number of critical sections: no update was lost to an overlap.
using System.Diagnostics;
using DistLock;
using DistLock.RedisRig;
using StackExchange.Redis;

var endpoints = args.SkipWhile(a => a != "--redis").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
const int Rounds = 10;
RedisServer? ownServer = null;
if (endpoints.Count == 0)
{
    ownServer = await RedisServer.StartAsync();
    endpoints.Add(ownServer.Endpoint);
    Console.WriteLine($"Started redis-server (pid {ownServer.ProcessId}) on {ownServer.Endpoint}; pass --redis HOST:PORT to use yours.");
}

try
{
    await using var counterConnection = await ConnectionMultiplexer.ConnectAsync(endpoints[0]);
    var counter = counterConnection.GetDatabase();
    var counterKey = $"distlock-sample:counter:{Guid.NewGuid():N}";
    var options = new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(5) } };
    var overlaps = 0;
    var inside = 0;

    async Task WorkerAsync(string name)
    {
        await using var locks = await RedisLockManager.ConnectAsync(endpoints, options);
        for (var i = 0; i < Rounds; i++)
        {
            await using var handle = await locks.AcquireAsync("distlock-sample", TimeSpan.FromSeconds(30));
            if (Interlocked.Increment(ref inside) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            // A deliberately slow read-modify-write: without the lock, the workers would lose updates.
            var value = (long)await counter.StringGetAsync(counterKey);
            await Task.Delay(Random.Shared.Next(5, 25));
            await counter.StringSetAsync(counterKey, value + 1);
            Console.WriteLine(
                $"{name}: critical section {i + 1,2}/{Rounds}, counter {value} -> {value + 1}; " +
                $"acquired on attempt {handle.AcquiredOnAttempt} after {handle.AcquireDelay.TotalMilliseconds:F0} ms, " +
                $"valid for {handle.Validity.TotalMilliseconds:F0} ms");
            Interlocked.Decrement(ref inside);
        }
    }

    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(WorkerAsync("worker A"), WorkerAsync("worker B"));
    var final = (long)await counter.StringGetAsync(counterKey);
    await counter.KeyDeleteAsync(counterKey);

    var ok = final == 2 * Rounds && overlaps == 0;
    Console.WriteLine();
    Console.WriteLine($"{2 * Rounds} critical sections in {stopwatch.ElapsedMilliseconds} ms; counter = {final}; overlaps = {overlaps}: {(ok ? "OK" : "FAILED")}");
    return ok ? 0 : 1;
}
finally
{
    if (ownServer is not null)
    {
        await ownServer.DisposeAsync();
    }
}
