using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// The behaviour every topology must show. Each topology subclasses this with its fixture, so
/// single node, Redlock and later topologies run the same cases.
/// </summary>
public abstract class LockSemanticsTests
{
    private readonly RedisNodesFixture _nodes;

    protected LockSemanticsTests(RedisNodesFixture nodes) => _nodes = nodes;

    protected static string NewResource() => "test-" + Guid.NewGuid().ToString("N");

    protected Task<RedisLockManager> ManagerAsync(LockOptions? options = null) => _nodes.ConnectAsync(options);

    /// <summary>
    /// An acquire returns at the first majority; on healthy nodes the others follow within moments.
    /// </summary>
    private Task<bool> HeldOnEveryNodeAsync(string key) =>
        Eventually.TrueWithinAsync(TimeSpan.FromSeconds(2), async () => await _nodes.CountHoldersAsync(key) == _nodes.NodeCount);

    [Fact]
    public async Task AcquireAsync_FreeLock_ReturnsHandleWithPlausibleInfo()
    {
        await using var manager = await ManagerAsync(new LockOptions { Ttl = TimeSpan.FromSeconds(10) });
        var resource = NewResource();
        var before = TimeProvider.System.GetUtcNow();

        await using var handle = await manager.AcquireAsync(resource);

        Assert.Equal(resource, handle.Resource);
        Assert.Equal($"lock:{{{resource}}}", handle.Key);
        Assert.Matches("^[0-9a-f]{32}$", handle.Id);
        Assert.Equal(1, handle.AcquiredOnAttempt);
        Assert.InRange(handle.AcquireDelay, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.InRange(handle.Validity, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(102));
        Assert.InRange(handle.ValidUntil, before + TimeSpan.FromSeconds(9), before + TimeSpan.FromSeconds(10));
        Assert.True(await HeldOnEveryNodeAsync(handle.Key));
        Assert.Equal(handle.Id, await _nodes.ValueAsync(handle.Key));
    }

    [Fact]
    public async Task TryAcquireAsync_HeldByOtherManager_ReturnsNull()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();

        await using var held = await first.AcquireAsync(resource);
        var stopwatch = Stopwatch.StartNew();
        var other = await second.TryAcquireAsync(resource);

        Assert.Null(other);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), "one attempt, no waiting");
    }

    [Fact]
    public async Task AcquireAsync_HeldByOther_AcquiresOnceReleased()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockOptions { RetryDelay = TimeSpan.FromMilliseconds(20) });
        var resource = NewResource();
        var held = await first.AcquireAsync(resource);

        var waiting = second.AcquireAsync(resource, TimeSpan.FromSeconds(10));
        await Task.Delay(150);
        Assert.False(waiting.IsCompleted, "the waiter must not get a held lock");
        Assert.True(await held.ReleaseAsync());
        await using var acquired = await waiting;

        Assert.True(acquired.AcquiredOnAttempt > 1);
        Assert.True(acquired.AcquireDelay >= TimeSpan.FromMilliseconds(140));
    }

    [Fact]
    public async Task AcquireAsync_StillHeldAtTimeout_ThrowsLockTimeoutException()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        await using var held = await first.AcquireAsync(resource);

        var stopwatch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => second.AcquireAsync(resource, TimeSpan.FromMilliseconds(300)));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromSeconds(2));
        Assert.Equal(resource, ex.Resource);
        Assert.True(ex.Attempts > 1);
    }

    [Fact]
    public async Task TryAcquireAsync_WithTimeout_ReturnsNullWhenStillHeld()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        await using var held = await first.AcquireAsync(resource);

        var stopwatch = Stopwatch.StartNew();
        Assert.Null(await second.TryAcquireAsync(resource, TimeSpan.FromMilliseconds(200)));
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsAndLeavesNoLock()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        var held = await first.AcquireAsync(resource);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AcquireAsync(resource, cancellationToken: cancellation.Token));
        await held.ReleaseAsync();

        // The release may have reserved the lock for the waiter that was just leaving the line; that
        // reservation is cleared by its pass-on or expires with the handoff grace (RetryDelay, 50 ms).
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(2), async () => await _nodes.CountHoldersAsync(held.Key) == 0));
    }

    [Fact]
    public async Task AcquireAsync_AlreadyCancelledToken_ThrowsWithoutTakingTheLock()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.AcquireAsync(resource, cancellationToken: new CancellationToken(true)));

        Assert.Equal(0, await _nodes.CountHoldersAsync($"lock:{{{resource}}}"));
    }

    [Fact]
    public async Task AcquireAsync_MaxRetriesRunOut_ThrowsAfterOnePlusRetriesAttempts()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockOptions { MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(10) });
        var resource = NewResource();
        await using var held = await first.AcquireAsync(resource);

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => second.AcquireAsync(resource));

        Assert.Equal(3, ex.Attempts);
    }

    [Fact]
    public async Task AcquireAsync_HolderNeverReleases_LockFreedByTtl()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockOptions { RetryDelay = TimeSpan.FromMilliseconds(20) });
        var resource = NewResource();
        var stale = await first.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(300), AutoExtend = false });

        await using var taken = await second.AcquireAsync(resource, TimeSpan.FromSeconds(5));
        var takenAt = TimeProvider.System.GetUtcNow();

        Assert.NotEqual(stale.Id, taken.Id);
        Assert.True(taken.AcquiredOnAttempt > 1, "the lock was held when the second owner first tried");
        Assert.True(takenAt >= stale.ValidUntil, $"taken at {takenAt:O}, before the first owner's validity ended at {stale.ValidUntil:O}");
        Assert.Equal(LockState.Lost, stale.State);
        Assert.True(stale.LostToken.IsCancellationRequested, "the lost signal fires by the validity deadline");
        Assert.False(await stale.ReleaseAsync(), "the expired owner no longer owns the lock");
        Assert.True(await _nodes.MajorityHoldsAsync(taken.Key, taken.Id));
    }

    [Fact]
    public async Task ExtendAsync_WhileHeld_KeepsLockPastOriginalTtl()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        await using var handle = await first.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(400) });
        var validBefore = handle.ValidUntil;

        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(5)));
        await Task.Delay(600); // past the original TTL

        Assert.Null(await second.TryAcquireAsync(resource));
        Assert.True(handle.ValidUntil > validBefore + TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task ExtendAsync_AfterExpiry_ReturnsFalseAndDoesNotRecreateKey()
    {
        await using var manager = await ManagerAsync();
        var handle = await manager.AcquireAsync(new LockRequest(NewResource()) { Ttl = TimeSpan.FromMilliseconds(100), AutoExtend = false });
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(5), async () => await _nodes.CountHoldersAsync(handle.Key) == 0));

        Assert.False(await handle.ExtendAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, await _nodes.CountHoldersAsync(handle.Key));
    }

    [Fact]
    public async Task ExtendAsync_NonPositiveTtl_ThrowsBeforeTouchingRedis()
    {
        await using var manager = await ManagerAsync();
        await using var handle = await manager.AcquireAsync(NewResource());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("ttl", () => handle.ExtendAsync(TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("ttl", () => handle.ExtendAsync(TimeSpan.FromSeconds(-1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("ttl", () => handle.ExtendAsync(TimeSpan.FromDays(365)));
        Assert.True(await HeldOnEveryNodeAsync(handle.Key), "a zero TTL must never reach PEXPIRE, which would delete the key");
    }

    [Fact]
    public async Task ExtendAndRelease_CancelledToken_ThrowAndLeaveTheLockHeld()
    {
        await using var manager = await ManagerAsync();
        await using var other = await ManagerAsync();
        var resource = NewResource();
        var handle = await manager.AcquireAsync(resource);
        var cancelled = new CancellationToken(true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.ExtendAsync(TimeSpan.FromSeconds(5), cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.ReleaseAsync(cancelled).AsTask());

        Assert.Null(await other.TryAcquireAsync(resource));
        Assert.True(await handle.ReleaseAsync(), "the handle still owns the lock and can release it");
    }

    [Fact]
    public async Task ReleaseAsync_ByExpiredOwner_DoesNotTouchNewOwnersLock()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockOptions { RetryDelay = TimeSpan.FromMilliseconds(20) });
        await using var third = await ManagerAsync();
        var resource = NewResource();
        var stale = await first.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(200), AutoExtend = false });
        await using var owner = await second.AcquireAsync(resource, TimeSpan.FromSeconds(5));

        Assert.False(await stale.ReleaseAsync());
        Assert.False(await stale.ExtendAsync(TimeSpan.FromSeconds(30)));

        Assert.Null(await third.TryAcquireAsync(resource));
        Assert.True(await _nodes.MajorityHoldsAsync(owner.Key, owner.Id), "the new owner's lock is intact");
    }

    [Fact]
    public async Task ReleaseAsync_Twice_ReleasesOnceAndFreesTheLock()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var handle = await manager.AcquireAsync(resource);

        Assert.True(await handle.ReleaseAsync());
        Assert.False(await handle.ReleaseAsync());
        Assert.False(await handle.ExtendAsync(TimeSpan.FromSeconds(1)));

        await using var again = await manager.TryAcquireAsync(resource);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task DisposeAsync_Handle_ReleasesTheLock()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        string key;
        await using (var handle = await manager.AcquireAsync(resource))
        {
            key = handle.Key;
        }

        Assert.Equal(0, await _nodes.CountHoldersAsync(key));
    }

    [Fact]
    public async Task AcquireAsync_CustomValue_IsStoredAndReported()
    {
        await using var manager = await ManagerAsync();
        var request = new LockRequest(NewResource()) { Value = "worker-7", Ttl = TimeSpan.FromSeconds(3) };

        await using var handle = await manager.AcquireAsync(request);

        Assert.Equal("worker-7", handle.Id);
        Assert.Equal("worker-7", await _nodes.ValueAsync(handle.Key));
        Assert.True(handle.Validity <= TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task TwoManagers_ContendingWorkers_NeverOverlap()
    {
        await using var first = await ManagerAsync(new LockOptions { RetryDelay = TimeSpan.FromMilliseconds(5) });
        await using var second = await ManagerAsync(new LockOptions { RetryDelay = TimeSpan.FromMilliseconds(5) });
        var resource = NewResource();
        var inside = 0;
        var overlaps = 0;
        var entries = 0;

        async Task WorkerAsync(RedisLockManager manager)
        {
            for (var i = 0; i < 25; i++)
            {
                await using var handle = await manager.AcquireAsync(resource, TimeSpan.FromSeconds(20));
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                Interlocked.Increment(ref entries);
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        }

        await Task.WhenAll(WorkerAsync(first), WorkerAsync(second), WorkerAsync(first), WorkerAsync(second));

        Assert.Equal(0, overlaps);
        Assert.Equal(100, entries);
    }

    [Fact]
    public async Task DisposeAsync_WithAutoRelease_ReleasesEveryHeldLock()
    {
        var manager = await ManagerAsync(new LockOptions { AutoReleaseOnDispose = true });
        var a = await manager.AcquireAsync(NewResource());
        var b = await manager.AcquireAsync(NewResource());

        await manager.DisposeAsync();

        Assert.Equal(0, await _nodes.CountHoldersAsync(a.Key));
        Assert.Equal(0, await _nodes.CountHoldersAsync(b.Key));
        Assert.False(await a.ReleaseAsync(), "already released by the manager");
    }

    [Fact]
    public async Task DisposeAsync_WithoutAutoRelease_LeavesLocksToTheirTtl()
    {
        var manager = await ManagerAsync(new LockOptions { Ttl = TimeSpan.FromSeconds(5) });
        var handle = await manager.AcquireAsync(NewResource());

        await manager.DisposeAsync();

        Assert.True(await HeldOnEveryNodeAsync(handle.Key));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => handle.ReleaseAsync().AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => manager.AcquireAsync(NewResource()));
        await handle.DisposeAsync(); // never throws
    }

    [Fact]
    public async Task ReleaseAsync_HandleFromAnotherManager_ThrowsArgumentException()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        await using var handle = await first.AcquireAsync(NewResource());

        await Assert.ThrowsAsync<ArgumentException>("handle", () => second.ReleaseAsync(handle).AsTask());
        Assert.True(await first.ReleaseAsync(handle));
    }

    [Fact]
    public async Task SyncWrappers_AcquireTryAcquireRelease_Work()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();

        using var handle = manager.Acquire(resource, TimeSpan.FromSeconds(5));
        Assert.Null(manager.TryAcquire(resource));
        Assert.True(handle.Extend(TimeSpan.FromSeconds(5)));
        Assert.True(handle.Release());
        using var again = manager.TryAcquire(resource);
        Assert.NotNull(again);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task AcquireAsync_BadResourceName_ThrowsArgumentException(string? resource)
    {
        await using var manager = await ManagerAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => manager.AcquireAsync(resource!));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => manager.TryAcquireAsync(resource!));
    }

    [Fact]
    public async Task AcquireAsync_ResourceOver1KiB_ThrowsArgumentException()
    {
        await using var manager = await ManagerAsync();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => manager.AcquireAsync(new string('x', 1025)));
        Assert.Equal("resource", ex.ParamName);
    }

    [Fact]
    public async Task AcquireAsync_NegativeTimeout_ThrowsArgumentOutOfRange()
    {
        await using var manager = await ManagerAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("timeout", () => manager.AcquireAsync(NewResource(), TimeSpan.FromSeconds(-2)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("timeout", () => manager.TryAcquireAsync(NewResource(), TimeSpan.FromMilliseconds(-5)));
    }

    [Fact]
    public async Task AcquireAsync_ResourceWithBraces_CannotShareAnotherResourcesKey()
    {
        await using var manager = await ManagerAsync();

        await using var plain = await manager.AcquireAsync("a");
        await using var braced = await manager.TryAcquireAsync("a}b");

        Assert.NotNull(braced);
        Assert.Equal("lock:{a%7Db}", braced.Key);
    }
}
