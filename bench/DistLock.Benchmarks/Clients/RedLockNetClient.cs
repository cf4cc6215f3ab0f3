using RedLockNet.SERedis;

namespace DistLock.Benchmarks.Clients;

/// <summary>RedLock.net: retries on a fixed interval until the wait runs out.</summary>
public sealed class RedLockNetClient(RedLockFactory factory, TimeSpan retry) : ILockClient
{
    private static readonly TimeSpan Expiry = TimeSpan.FromSeconds(30);

    public async Task<IAsyncDisposable?> AcquireAsync(string resource, TimeSpan wait)
    {
        var redLock = wait > TimeSpan.Zero
            ? await factory.CreateLockAsync(resource, Expiry, wait, retry)
            : await factory.CreateLockAsync(resource, Expiry);
        if (redLock.IsAcquired)
        {
            return redLock;
        }

        await redLock.DisposeAsync();
        return null;
    }

    public ValueTask DisposeAsync()
    {
        factory.Dispose();
        return ValueTask.CompletedTask;
    }
}
