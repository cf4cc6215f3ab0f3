using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>Semaphores in process, with the rules of the semaphore scripts.</summary>
internal sealed partial class InMemoryLockNode
{
    private Task<NodeResult> TryAcquireSemaphore(LockTarget target, string id, TimeSpan ttl, string waiterId) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");

    private Task<NodeResult> ExtendSemaphore(LockTarget target, string id, TimeSpan ttl) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");

    private Task<NodeResult> ReleaseSemaphore(LockTarget target, string id, string notice) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");

    private Task PassOnSemaphore(LockTarget target, string waiterId, string notice) =>
        throw new NotSupportedException("Semaphores are not implemented yet.");
}
