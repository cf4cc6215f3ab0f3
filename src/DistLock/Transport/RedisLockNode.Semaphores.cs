using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>Semaphores: at most <c>maxCount</c> holds of a semaphore key, one lease each.</summary>
internal sealed partial class RedisLockNode
{
    private Task<NodeResult> TryAcquireSemaphoreAsync(LockTarget target, string id, TimeSpan ttl, string waiterId) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");

    private Task<NodeResult> ExtendSemaphoreAsync(LockTarget target, string id, TimeSpan ttl) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");

    private Task<NodeResult> ReleaseSemaphoreAsync(LockTarget target, string id, string notice) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");

    private Task PassOnSemaphoreAsync(LockTarget target, string waiterId, string notice) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");
}
