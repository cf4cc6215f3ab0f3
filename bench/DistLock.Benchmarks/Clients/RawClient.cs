using StackExchange.Redis;

namespace DistLock.Benchmarks.Clients;

/// <summary>
/// The floor: one SET NX PX to take, one compare-and-delete script to give back, and a 1 ms poll
/// while held. No validity, no waiting strategy, no error handling: what any lock must pay at least.
/// </summary>
public sealed class RawClient(IDatabase database, byte[] releaseSha) : ILockClient
{
    public const string CompareAndDelete = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

    public async Task<IAsyncDisposable?> AcquireAsync(string resource, TimeSpan wait)
    {
        var key = (RedisKey)("raw:" + resource);
        var value = Guid.NewGuid().ToString("N");
        var deadline = TimeProvider.System.GetTimestamp() + (long)(wait.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            if (await database.StringSetAsync(key, value, TimeSpan.FromSeconds(30), When.NotExists))
            {
                return new Held(database, releaseSha, key, value);
            }

            if (TimeProvider.System.GetTimestamp() >= deadline)
            {
                return null;
            }

            await Task.Delay(1);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Held(IDatabase database, byte[] releaseSha, RedisKey key, string value) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() =>
            await database.ScriptEvaluateAsync(releaseSha, [key], [value]);
    }
}
