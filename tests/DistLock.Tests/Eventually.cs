namespace DistLock.Tests;

/// <summary>
/// Waits on the real clock for what work on the thread pool brings about (a waiter taking its place
/// in line, a wake delivered), which a fake clock that the test does not move cannot time; the
/// deadline is one a loaded 2-core machine meets, and a regression that never gets there fails.
/// </summary>
internal static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < Patience, $"never {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Until <paramref name="count"/> waiting processes (a queue each, whatever its local waiters) are in the lock's line.</summary>
    public static Task InLineAsync(ILockManager locks, string resource, int count) =>
        TrueAsync(async () => (await locks.InspectAsync(resource)).Waiters == count, $"{count} in line for {resource}");

    /// <summary>Until <paramref name="count"/> waiting processes are in the semaphore's line.</summary>
    public static Task InSemaphoreLineAsync(ILockManager locks, string resource, int count) =>
        TrueAsync(async () => (await locks.InspectSemaphoreAsync(resource)).Waiters == count, $"{count} in line for semaphore {resource}");
}
