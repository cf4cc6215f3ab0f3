using DistLock.IntegrationTests.Fixtures;
using DistLock.Transport;

namespace DistLock.IntegrationTests;

/// <summary>
/// <see cref="LineOfWaitersTests"/> on a semaphore of one permit: its scripts share the wake rules
/// (line.lua), and a stalled waiter or a fleet of dead ones must not make its live waiters sleep to
/// the holder's TTL either.
/// </summary>
public abstract class SemaphoreLineOfWaitersTests(RedisNodesFixture nodes) : LineOfWaitersTests(nodes)
{
    protected override string KeyOf(string resource) => new LockKeyLayout(new LockManagerOptions().KeyPrefix).SemaphoreKey(resource);

    protected override Task<LockHandle> AcquireAsync(RedisLockManager manager, string resource, TimeSpan? timeout = null) =>
        manager.AcquireSemaphoreAsync(resource, 1, timeout);
}
