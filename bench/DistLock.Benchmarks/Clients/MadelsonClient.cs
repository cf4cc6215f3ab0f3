using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Clients;

/// <summary>madelson's DistributedLock.Redis: sleeps a random busy-wait time between attempts.</summary>
public sealed class MadelsonClient(IReadOnlyList<IDatabase> databases, (TimeSpan Min, TimeSpan Max)? busyWait) : ILockClient
{
    public async Task<IAsyncDisposable?> AcquireAsync(string resource, TimeSpan wait)
    {
        var @lock = new RedisDistributedLock(resource, databases, options =>
        {
            options.Expiry(TimeSpan.FromSeconds(30));
            if (busyWait is { } sleep)
            {
                options.BusyWaitSleepTime(sleep.Min, sleep.Max);
            }
        });
        return await @lock.TryAcquireAsync(wait);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
