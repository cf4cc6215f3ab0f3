using DistLock;
using DistLock.IntegrationTests;
using StackExchange.Redis;

// Rc1Worker ENDPOINT RESOURCE SECONDS MODE: takes the lock (MODE: write, read or permit) again and
// again, and reports to a shared tally who is inside, so that the test sees any overlap with holders
// of another version. Prints "acquisitions N" at the end.
var (endpoint, resource, seconds, mode) = (args[0], args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args[3]);
await using var locks = await RedisLockManager.ConnectAsync(endpoint);
await using var tally = await ConnectionMultiplexer.ConnectAsync(endpoint);
var db = tally.GetDatabase();
var acquisitions = 0;
var until = DateTime.UtcNow.AddSeconds(seconds);
while (DateTime.UtcNow < until)
{
    await using var handle = mode switch
    {
        "read" => await locks.AcquireReadAsync(resource, TimeSpan.FromSeconds(30)),
        "permit" => await locks.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(30)),
        _ => await locks.AcquireWriteAsync(resource, TimeSpan.FromSeconds(30)),
    };
    await RollingUpgradeTally.EnterAsync(db, resource, mode);
    await Task.Delay(Random.Shared.Next(2, 10));
    await RollingUpgradeTally.LeaveAsync(db, resource, mode);
    acquisitions++;
}

Console.WriteLine($"acquisitions {acquisitions}");
