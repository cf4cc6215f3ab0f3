using DistLock.RedisRig;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>Stops a test's own servers when it ends, pass or fail (SIGKILL: a paused one too).</summary>
internal sealed class StartedServers(RedisServer[] servers) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }
}
