namespace DistLock.IntegrationTests.Fixtures;

/// <summary>Waits on what a semaphore looks like through any manager (<see cref="ILockManager.InspectSemaphoreAsync"/>).</summary>
public static class SemaphoreProbe
{
    /// <summary>Waits until the semaphore's line has <paramref name="waiters"/> waiting processes.</summary>
    public static async Task WaitersAsync(ILockManager manager, string resource, int waiters)
    {
        var lined = await Eventually.TrueWithinAsync(
            TimeSpan.FromSeconds(20), async () => (await manager.InspectSemaphoreAsync(resource)).Waiters >= waiters);
        Assert.True(lined, $"fewer than {waiters} waiters in the semaphore's line");
    }
}
