namespace DistLock.IntegrationTests.Fixtures;

/// <summary>What a semaphore looks like on the topology behind a manager, whichever kind it is.</summary>
public static class SemaphoreProbe
{
    public static Task<SemaphoreInfo> InspectAsync(ILockManager manager, string resource) => manager switch
    {
        RedisLockManager redis => redis.InspectSemaphoreAsync(resource),
        InMemoryLockManager memory => Task.FromResult(memory.InspectSemaphore(resource)),
        _ => throw new ArgumentException($"no semaphore inspection for {manager.GetType().Name}", nameof(manager)),
    };

    /// <summary>Waits until the semaphore's line has <paramref name="waiters"/> waiting processes.</summary>
    public static async Task WaitersAsync(ILockManager manager, string resource, int waiters)
    {
        var lined = await Eventually.TrueWithinAsync(
            TimeSpan.FromSeconds(20), async () => (await InspectAsync(manager, resource)).Waiters >= waiters);
        Assert.True(lined, $"fewer than {waiters} waiters in the semaphore's line");
    }
}
