namespace DistLock.Benchmarks.Clients;

public sealed class DistLockClient(RedisLockManager manager) : ILockClient
{
    public async Task<IAsyncDisposable?> AcquireAsync(string resource, TimeSpan wait) =>
        await manager.TryAcquireAsync(resource, wait);

    public ValueTask DisposeAsync() => manager.DisposeAsync();
}
