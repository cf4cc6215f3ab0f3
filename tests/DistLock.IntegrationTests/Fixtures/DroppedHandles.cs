using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>Handles an application drops without releasing them, and the collections that find them.</summary>
public static class DroppedHandles
{
    /// <summary>Takes a hold with <paramref name="acquire"/> and drops its handle: nothing refers to it once this returns.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static async Task AcquireAndDropAsync(Func<Task<LockHandle>> acquire) => Assert.Equal(LockState.Held, (await acquire()).State);

    /// <summary>
    /// Collects (and runs finalizers) until <paramref name="waiting"/>, a waiter for what a dropped
    /// handle held, is done, for up to a minute: only the dropped handle's finalizer can let it in.
    /// </summary>
    public static async Task<LockHandle> UntilGivenUpAsync(Task<LockHandle> waiting)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!waiting.IsCompleted && stopwatch.Elapsed < TimeSpan.FromMinutes(1))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.WhenAny(waiting, Task.Delay(100));
        }

        Assert.True(waiting.IsCompleted, "the dropped handle was not collected, or what it held not given up");
        return await waiting;
    }
}
