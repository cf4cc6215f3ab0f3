using Microsoft.Extensions.Hosting;

namespace DistLock;

/// <summary>
/// Starts connecting to Redis when the host starts, without waiting for it: start-up neither
/// blocks nor fails on a Redis outage, and the first request usually finds the connection ready.
/// </summary>
internal sealed class DistLockWarmup(DistLockConnection connection) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = connection.StartAsync();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
