using DistLock.Tests.Algorithm;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests;

/// <summary>The in-process manager on a fake clock: expiry, extension and loss happen when the test moves time.</summary>
public sealed class InMemoryLockManagerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Lock_ExpiresWhenTheFakeClockPassesItsTtl_AndIsLost()
    {
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _time, Defaults = { Ttl = TimeSpan.FromSeconds(10), AutoExtend = false } });
        var handle = await locks.AcquireAsync("job");

        _time.Advance(TimeSpan.FromSeconds(9));
        var token = await handle.GetFencingTokenAsync();
        Assert.Null(await locks.TryAcquireAsync("job"));
        Assert.Equal(LockState.Held, handle.State);

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(LockState.Lost, handle.State);
        Assert.True(handle.LostToken.IsCancellationRequested);
        Assert.False(await handle.ExtendAsync());
        await using var next = await locks.TryAcquireAsync("job");
        Assert.NotNull(next);
        Assert.True(await next.GetFencingTokenAsync() > token);
    }

    /// <summary>
    /// A manager that shares another's locks used that manager's handoff grace, not its own: a queue
    /// it woke had the first manager's 50 ms to claim its turn though its own options gave 5 s (a
    /// woken writer that was slow on a busy machine lost its turn to later readers and timed out).
    /// </summary>
    [Fact]
    public async Task SharingManager_KeepsTurnsForItsOwnHandoffGrace()
    {
        await using var root = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _time });
        await using var patient = new InMemoryLockManager(root, new LockManagerOptions { TimeProvider = _time, HandoffGrace = TimeSpan.FromSeconds(5) });
        await using var held = await root.AcquireAsync(new LockRequest("b") { Ttl = TimeSpan.FromMilliseconds(200) });
        using var giveUp = new CancellationTokenSource();

        // A set keeps its free member for itself until the other is expected free, and at least for the grace.
        var waiting = patient.AcquireAllAsync(["a", "b"], TimeSpan.FromSeconds(30), giveUp.Token);
        await Eventually.TrueAsync(async () => (await root.InspectAsync("a")).HandingOver == 1, "kept a for the set");

        Assert.InRange((await root.InspectAsync("a")).RemainingTtl ?? TimeSpan.Zero, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task AutoExtension_FollowsTheFakeClock()
    {
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _time, Defaults = { Ttl = TimeSpan.FromSeconds(3) } });
        await using var handle = await locks.AcquireAsync("job");

        for (var i = 0; i < 100; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(1);
        }

        Assert.Equal(LockState.Held, handle.State);
        Assert.Null(await locks.TryAcquireAsync("job"));
    }

    /// <param name="watchedByItsOwnCallback">The handle's LostToken has a callback that refers to the handle (regression: that kept it from being collected).</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DroppedHandle_IsReleased_WithoutTheClockMoving(bool watchedByItsOwnCallback)
    {
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _time, Defaults = { Ttl = TimeSpan.FromMinutes(1) } });
        var lost = 0;
        var token = await AcquireAndDropAsync(locks, watchedByItsOwnCallback ? () => Interlocked.Increment(ref lost) : null);

        // The fake clock stands still: only a release of the dropped handle's lock frees it.
        LockHandle? next = null;
        for (var i = 0; i < 100 && next is null; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            next = await locks.TryAcquireAsync("job");
            if (next is null)
            {
                await Task.Yield();
            }
        }

        Assert.NotNull(next);
        Assert.True((await next.GetFencingTokenAsync()) > token);
        Assert.Equal(1, locks.Leases.Count); // next's only
        if (watchedByItsOwnCallback)
        {
            // Abandoned is lost: the callback runs, as for any other loss.
            Assert.True(await FakeClock.PollAsync(() => Volatile.Read(ref lost) == 1), "the dropped handle's LostToken did not fire");
        }

        await next.DisposeAsync();
    }

    /// <summary>Takes a lock and forgets its handle without releasing it, as a missing <c>await using</c> would.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<long> AcquireAndDropAsync(InMemoryLockManager locks, Action? onLost = null)
    {
        var handle = await locks.AcquireAsync("job");
        if (onLost is not null)
        {
            handle.LostToken.Register(() =>
            {
                // Refers to the handle, as an application's callback would.
                GC.KeepAlive(handle);
                onLost();
            });
        }

        return await handle.GetFencingTokenAsync();
    }

    /// <summary>Regression (a review, 2026-12-06): a full semaphore's timeout said a lock was held by another owner.</summary>
    [Fact]
    public async Task Timeout_SaysWhatWasBusy_ForEachKindOfHold()
    {
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _time });
        await using var permit = await locks.AcquireSemaphoreAsync("pool", 1);
        await using var writer = await locks.AcquireAsync("doc");

        var semaphore = await Assert.ThrowsAsync<LockTimeoutException>(() => locks.AcquireSemaphoreAsync("pool", 1, TimeSpan.Zero));
        var reader = await Assert.ThrowsAsync<LockTimeoutException>(() => locks.AcquireReadAsync("doc", TimeSpan.Zero));
        var exclusive = await Assert.ThrowsAsync<LockTimeoutException>(() => locks.AcquireAsync("doc", TimeSpan.Zero));

        Assert.StartsWith("Semaphore 'pool' has no free permit after 1 attempt(s)", semaphore.Message, StringComparison.Ordinal);
        Assert.StartsWith("Lock 'doc' is still held (or waited for) by a writer after 1 attempt(s)", reader.Message, StringComparison.Ordinal);
        Assert.StartsWith("Lock 'doc' is still held by another handle (this manager's too: a lock is not reentrant) or kept for a waiter ahead, after 1 attempt(s)", exclusive.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeparateManagers_DoNotShareLocks_UnlessAskedTo()
    {
        await using var a = new InMemoryLockManager();
        await using var b = new InMemoryLockManager();
        await using var shared = new InMemoryLockManager(a);
        await using var held = await a.AcquireAsync("job");

        await using var elsewhere = await b.TryAcquireAsync("job");
        Assert.NotNull(elsewhere);
        Assert.Null(await shared.TryAcquireAsync("job"));
    }

    [Fact]
    public async Task Disposed_HeldLocksAreLost_AndCallsThrow()
    {
        var locks = new InMemoryLockManager();
        var handle = await locks.AcquireAsync("job");

        await locks.DisposeAsync();

        Assert.Equal(LockState.Lost, handle.State);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => locks.AcquireAsync("other"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => locks.InspectAsync("job"));
    }
}
