using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Semaphores on every topology that supports them (one deployment: single node, Sentinel,
/// cluster, Garnet, in memory): at most maxCount holders, each with a lease; FIFO waiting without
/// polling (RetryDelay is 10 s and the TTL 30 s, so a waiter that polled or missed a wake would
/// time out); maxCount as part of the semaphore's identity; what an operator sees and can do
/// (inspection, force release). The matrix is in TestMatrix.cs.
/// </summary>
public abstract class SemaphoreTests
{
    // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
    // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out.
    private static readonly LockManagerOptions Patient = new() { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { RetryDelay = TimeSpan.FromSeconds(10), Ttl = TimeSpan.FromSeconds(30) } };
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private readonly ILockTopology _topology;

    protected SemaphoreTests(ILockTopology topology) => _topology = topology;

    private static string NewResource() => "sem-" + Guid.NewGuid().ToString("N");

    private Task<ILockManager> ManagerAsync(LockManagerOptions? options = null) => _topology.ConnectAsync(options ?? Patient);

    [Fact]
    public async Task AcquireSemaphoreAsync_Free_ReturnsSemaphoreHandle()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();

        await using var handle = await manager.AcquireSemaphoreAsync(resource, 2);

        Assert.Equal(LockMode.Semaphore, handle.Mode);
        Assert.Equal($"lock:{{{resource}}}:semaphore", handle.Key);
        Assert.Equal(LockState.Held, handle.State);
        var info = await manager.InspectSemaphoreAsync(resource);
        Assert.Equal(2, info.MaxCount);
        Assert.Equal(handle.HolderId, Assert.Single(info.Holders).HolderId);
        Assert.Equal(1, info.FreePermits);
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_64ConcurrentTasks_NeverMoreThanMaxCountHolders()
    {
        await using var manager = await ManagerAsync();
        var max = await RunContendersAsync([manager], NewResource(), maxCount: 4, tasksPerManager: 64);

        Assert.Equal(4, max);
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_SeveralManagers_NeverMoreThanMaxCountHolders()
    {
        var managers = new List<ILockManager>();
        for (var i = 0; i < 4; i++)
        {
            managers.Add(await ManagerAsync());
        }

        try
        {
            var max = await RunContendersAsync(managers, NewResource(), maxCount: 3, tasksPerManager: 8);
            Assert.Equal(3, max);
        }
        finally
        {
            foreach (var manager in managers)
            {
                await manager.DisposeAsync();
            }
        }
    }

    /// <summary>Every task takes a permit, holds it briefly and releases it; returns the most holders seen at once.</summary>
    private static async Task<int> RunContendersAsync(IReadOnlyList<ILockManager> managers, string resource, int maxCount, int tasksPerManager)
    {
        var holding = 0;
        var most = 0;
        var tasks = managers.SelectMany(manager => Enumerable.Range(0, tasksPerManager).Select(_ => Task.Run(async () =>
        {
            await using var handle = await manager.AcquireSemaphoreAsync(resource, maxCount, Long);
            var now = Interlocked.Increment(ref holding);
            InterlockedMax(ref most, now);
            Assert.True(now <= maxCount, $"{now} holders of a semaphore of {maxCount}");
            await Task.Delay(20); // hold the permit a while, so that the others contend for it
            Interlocked.Decrement(ref holding);
        })));
        await Task.WhenAll(tasks);
        return most;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var actual && actual != seen)
        {
            seen = actual;
        }
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_HolderCrashes_PermitReturnsAfterItsTtl()
    {
        var crashed = await ManagerAsync();
        await using var waiter = await ManagerAsync();
        var resource = NewResource();
        var stale = await crashed.AcquireSemaphoreAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(500), AutoExtend = false }, 1);
        await crashed.DisposeAsync(); // gone without releasing, as a killed process would be

        await using var handle = await waiter.AcquireSemaphoreAsync(resource, 1, TimeSpan.FromSeconds(10));

        Assert.True(TimeProvider.System.GetUtcNow() >= stale.ValidUntil);
        Assert.True(handle.AcquireDelay < TimeSpan.FromSeconds(5), $"taken after {handle.AcquireDelay}");
    }

    [Fact]
    public async Task ReleaseAsync_EachFreedPermit_WakesOneWaiter_InArrivalOrder()
    {
        await using var owner = await ManagerAsync();
        var resource = NewResource();
        var held = new List<LockHandle> { await owner.AcquireSemaphoreAsync(resource, 2), await owner.AcquireSemaphoreAsync(resource, 2) };
        var waiters = new List<ILockManager>();
        var waiting = new List<Task<LockHandle>>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                waiters.Add(await ManagerAsync());
                waiting.Add(waiters[i].AcquireSemaphoreAsync(resource, 2, Long));
                await SemaphoreProbe.WaitersAsync(owner, resource, i + 1); // arrival order is line order
            }

            for (var i = 0; i < 4; i++)
            {
                await held[i].ReleaseAsync();
                var next = await waiting[i].WaitAsync(TimeSpan.FromSeconds(10));
                Assert.All(waiting.Skip(i + 1), w => Assert.False(w.IsCompleted, "a later waiter got a permit first"));

                // First attempt, the attempt in line, the attempt on its wake, and at most one
                // look after the line's news: a waiter that polled, or was woken by every
                // release, would need more.
                Assert.InRange(next.AcquiredOnAttempt, 1, 4);
                held.Add(next);
            }

            var info = await owner.InspectSemaphoreAsync(resource);
            Assert.Equal(0, info.Waiters);
            Assert.Equal(2, info.Holders.Count);
        }
        finally
        {
            foreach (var handle in held)
            {
                await handle.DisposeAsync();
            }

            foreach (var manager in waiters)
            {
                await manager.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_Cancelled_LeavesNoPlaceInLineNorReservation()
    {
        await using var holder = await ManagerAsync();
        await using var waiter = await ManagerAsync();
        var resource = NewResource();
        var held = await holder.AcquireSemaphoreAsync(resource, 1);
        using var cancel = new CancellationTokenSource();
        var waiting = waiter.AcquireSemaphoreAsync(resource, 1, Long, cancel.Token);
        await SemaphoreProbe.WaitersAsync(holder, resource, 1);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await held.ReleaseAsync();

        var info = await holder.InspectSemaphoreAsync(resource);
        Assert.Equal(0, info.Waiters);
        Assert.Equal(0, info.HandingOver);
        Assert.Empty(info.Holders);
        await using var again = await holder.TryAcquireSemaphoreAsync(resource, 1);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_MaxCountDisagreesWithHolders_ThrowsArgumentExceptionNamingTheLimit()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var held = await manager.AcquireSemaphoreAsync(resource, 3);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => manager.TryAcquireSemaphoreAsync(resource, 5, TimeSpan.FromSeconds(1)));
        var waiting = await Assert.ThrowsAsync<ArgumentException>(() => manager.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(1)));

        Assert.Equal("maxCount", error.ParamName);
        Assert.Contains("maxCount 3", error.Message, StringComparison.Ordinal);
        Assert.Equal("maxCount", waiting.ParamName);

        // With no holder left, the next caller's maxCount is the limit.
        await held.ReleaseAsync();
        await using var first = await manager.AcquireSemaphoreAsync(resource, 5);
        Assert.Equal(5, (await manager.InspectSemaphoreAsync(resource)).MaxCount);
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_MaxCountBelowOne_ThrowsBeforeSending()
    {
        await using var manager = await ManagerAsync();

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => manager.AcquireSemaphoreAsync(NewResource(), 0));
        Assert.Equal("maxCount", error.ParamName);
    }

    [Fact]
    public async Task AcquireSemaphoreAsync_EachAcquisition_GetsAHigherFencingToken()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var tokens = new List<long>();
        for (var round = 0; round < 3; round++)
        {
            var handles = new List<LockHandle>();
            for (var i = 0; i < 3; i++)
            {
                handles.Add(await manager.AcquireSemaphoreAsync(resource, 3));
                tokens.Add((await handles[^1].GetFencingTokenAsync()));
            }

            foreach (var handle in handles)
            {
                await handle.ReleaseAsync();
            }
        }

        Assert.True(tokens.Zip(tokens.Skip(1)).All(p => p.Second > p.First), string.Join(", ", tokens));
    }

    [Fact]
    public async Task ExtendAsync_LivePermit_KeepsItPastItsTtl()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        await using var handle = await manager.AcquireSemaphoreAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(800), AutoExtend = false }, 1);

        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(30)));

        var holder = Assert.Single((await manager.InspectSemaphoreAsync(resource)).Holders);
        Assert.InRange(holder.RemainingTtl, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30));
        Assert.Null(await manager.TryAcquireSemaphoreAsync(resource, 1));
    }

    [Fact]
    public async Task WithoutExtension_PermitExpires_HolderLearnsItLostIt_AndCannotExtend()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var other = await manager.AcquireSemaphoreAsync(resource, 2);
        var stale = await manager.AcquireSemaphoreAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(300), AutoExtend = false }, 2);

        await stale.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(10));
        var gone = await Eventually.TrueWithinAsync(
            TimeSpan.FromSeconds(10), async () => (await manager.InspectSemaphoreAsync(resource)).Holders.Count == 1);

        Assert.True(gone, "the expired holder is still listed");
        Assert.Equal(LockState.Lost, stale.State);
        Assert.False(await stale.ExtendAsync(TimeSpan.FromSeconds(30)));
        Assert.False(await stale.ReleaseAsync());
        Assert.Equal(LockState.Held, other.State);
        await other.ReleaseAsync();
    }

    [Fact]
    public async Task TryAcquireSemaphoreAsync_AllPermitsTaken_ReturnsNull_AndSemaphoreIsNotTheLock()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        await using var first = await manager.AcquireSemaphoreAsync(resource, 1);

        Assert.Null(await manager.TryAcquireSemaphoreAsync(resource, 1));
        await using var theLock = await manager.TryAcquireAsync(resource);
        Assert.NotNull(theLock);
    }

    [Fact]
    public async Task ForceReleaseSemaphoreAsync_OneHolder_FreesItsPermit_WakesTheWaiter_AndTheHolderLosesIt()
    {
        // TTL 9 s: a waiter served within 6 s was woken, not let in by the lease's end; the holder's
        // next extension (every 3 s) finds it lost.
        await using var owner = await ManagerAsync(new LockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(9) } });
        await using var other = await ManagerAsync();
        await using var waiter = await ManagerAsync();
        await using var admin = await ManagerAsync();
        var resource = NewResource();
        var stuck = await owner.AcquireSemaphoreAsync(resource, 2);
        await using var kept = await other.AcquireSemaphoreAsync(resource, 2);
        var waiting = waiter.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(30));
        await SemaphoreProbe.WaitersAsync(admin, resource, 1);

        Assert.Equal(1, await admin.ForceReleaseSemaphoreAsync(resource, stuck.HolderId));

        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(6)); // well before the 9 s TTL
        await stuck.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(15));
        Assert.False(await stuck.ReleaseAsync());
        Assert.Equal(LockState.Held, kept.State);
        var holders = (await admin.InspectSemaphoreAsync(resource)).Holders.Select(h => h.HolderId).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { kept.HolderId, next.HolderId }.Order(StringComparer.Ordinal), holders);
    }

    [Fact]
    public async Task ForceReleaseSemaphoreAsync_EveryHolder_WakesOneWaiterPerPermit()
    {
        await using var owner = await ManagerAsync(new LockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(20) } });
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        await using var admin = await ManagerAsync();
        var resource = NewResource();
        var a = await owner.AcquireSemaphoreAsync(resource, 2);
        var b = await owner.AcquireSemaphoreAsync(resource, 2);
        var waitingFirst = first.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(30));
        var waitingSecond = second.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(30));
        await SemaphoreProbe.WaitersAsync(admin, resource, 2);

        Assert.Equal(2, await admin.ForceReleaseSemaphoreAsync(resource));

        // Well before the 20 s TTL: woken, not let in by the leases' end.
        await using var one = await waitingFirst.WaitAsync(TimeSpan.FromSeconds(10));
        await using var two = await waitingSecond.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(await a.ReleaseAsync());
        Assert.False(await b.ReleaseAsync());
        Assert.Equal(0, await admin.ForceReleaseSemaphoreAsync(resource, "no-such-holder"));
        Assert.Equal(2, (await admin.InspectSemaphoreAsync(resource)).Holders.Count);
    }

    [Fact]
    public async Task ForceReleaseSemaphoreAsync_RejectsBadArguments()
    {
        await using var manager = await ManagerAsync();

        await Assert.ThrowsAsync<ArgumentException>("resource", () => manager.ForceReleaseSemaphoreAsync(" "));
        await Assert.ThrowsAsync<ArgumentException>("holderId", () => manager.ForceReleaseSemaphoreAsync("sem", " "));
        await Assert.ThrowsAsync<ArgumentException>("holderId", () => manager.ForceReleaseSemaphoreAsync("sem", ""));
        await Assert.ThrowsAsync<ArgumentException>("holderId", () => manager.ForceReleaseSemaphoreAsync("sem", "reserved:q"));
    }
}
