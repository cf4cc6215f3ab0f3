using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// <see cref="LockSemanticsTests"/> rerun on a semaphore of one permit: "the lock" is that permit
/// (<c>AcquireSemaphoreAsync(resource, 1, ...)</c>), which must be a mutex in every case the lock
/// is: waiting, timeouts, cancellation, expiry, extension, release, disposal, bad input. Only the
/// way it is taken differs, and its key (the semaphore's own, beside the lock's). Semaphores run
/// on one deployment only, so the Redlock topologies, which refuse them at the call
/// (<see cref="RedlockSemaphoreTests"/>), are not in its row of the matrix (TestMatrix.cs).
/// </summary>
public abstract class SemaphoreOfOneLockSemanticsTests(ILockTopology topology) : LockSemanticsTests(topology)
{
    protected override Task<LockHandle> AcquireAsync(ILockManager manager, string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        manager.AcquireSemaphoreAsync(resource, 1, timeout, cancellationToken);

    protected override Task<LockHandle> AcquireAsync(ILockManager manager, LockRequest request) => manager.AcquireSemaphoreAsync(request, 1);

    protected override Task<LockHandle?> TryAcquireAsync(ILockManager manager, string resource, TimeSpan timeout = default) =>
        manager.TryAcquireSemaphoreAsync(resource, 1, timeout);

    protected override LockHandle Acquire(ILockManager manager, string resource, TimeSpan? timeout = null) => manager.AcquireSemaphore(resource, 1, timeout);

    protected override LockHandle? TryAcquire(ILockManager manager, string resource) => manager.TryAcquireSemaphore(resource, 1);

    protected override string KeyOf(string hashTag) => base.KeyOf(hashTag) + ":semaphore";
}
