namespace DistLock.TestingSample;

/// <summary>
/// Application code: publishes the daily report on one instance only. It depends on
/// <see cref="ILockManager"/>, so production passes a <see cref="RedisLockManager"/> and tests an
/// <see cref="InMemoryLockManager"/>.
/// </summary>
public sealed class ReportPublisher(ILockManager locks)
{
    public int Published { get; private set; }

    /// <summary>Publishes unless another instance is doing it now; true when this call published.</summary>
    public async Task<bool> TryPublishAsync(CancellationToken cancellationToken = default)
    {
        await using var handle = await locks.TryAcquireAsync(
            new LockRequest("reports:daily") { Ttl = TimeSpan.FromMinutes(5), AutoExtend = false }, cancellationToken);
        if (handle is null)
        {
            return false;
        }

        Published++;
        return true;
    }
}
