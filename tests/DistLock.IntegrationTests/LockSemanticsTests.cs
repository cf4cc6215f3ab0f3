using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// The behaviour of a mutex every topology must show, seen through <see cref="ILockManager"/> only,
/// so the in-memory manager runs it as Redis does; what Redis stores is checked in
/// <see cref="RedisLockSemanticsTests"/>. The matrix is in TestMatrix.cs.
/// </summary>
/// <remarks>
/// <para>
/// Every case takes "the lock" through <see cref="AcquireAsync(ILockManager, string, TimeSpan?, CancellationToken)"/>
/// and its siblings, so that a derived suite reruns them all on another kind of hold:
/// <see cref="SemaphoreOfOneLockSemanticsTests"/> on a semaphore of one permit.
/// </para>
/// <para>
/// There is no rerun through a write lock: the write lock is the exclusive lock (readers exclude
/// <c>AcquireAsync</c> as they excluded the write lock, which is gone), so this suite is that rerun.
/// Nor through a write lock taken after a reader came and went: the last reader out deletes the
/// readers' marker and set (release-read.lua), leaving the key as this suite finds a fresh one, so
/// such a rerun would repeat these cases on the same state. How the exclusive lock and readers
/// meet (a writer waiting for the last reader, readers queued behind a writer, the exclusive lock
/// taken once the readers left, tokens across the two) is in <see cref="ReaderWriterTests"/>, on
/// every topology too.
/// </para>
/// </remarks>
public abstract class LockSemanticsTests
{
    private readonly ILockTopology _topology;

    protected LockSemanticsTests(ILockTopology topology) => _topology = topology;

    protected static string NewResource() => "test-" + Guid.NewGuid().ToString("N");

    protected Task<ILockManager> ManagerAsync(LockManagerOptions? options = null) => _topology.ConnectAsync(options);

    /// <summary>Takes the lock, waiting up to <paramref name="timeout"/> (null: the manager's default).</summary>
    protected virtual Task<LockHandle> AcquireAsync(ILockManager manager, string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        manager.AcquireAsync(resource, timeout, cancellationToken);

    /// <summary>Takes the lock as <paramref name="request"/> asks.</summary>
    protected virtual Task<LockHandle> AcquireAsync(ILockManager manager, LockRequest request) => manager.AcquireAsync(request);

    /// <summary>Takes the lock if it is free within <paramref name="timeout"/>; null if not.</summary>
    protected virtual Task<LockHandle?> TryAcquireAsync(ILockManager manager, string resource, TimeSpan timeout = default) =>
        manager.TryAcquireAsync(resource, timeout);

    /// <summary>The blocking form of <see cref="AcquireAsync(ILockManager, string, TimeSpan?, CancellationToken)"/>.</summary>
    protected virtual LockHandle Acquire(ILockManager manager, string resource, TimeSpan? timeout = null) => manager.Acquire(resource, timeout);

    /// <summary>The blocking form of <see cref="TryAcquireAsync"/>.</summary>
    protected virtual LockHandle? TryAcquire(ILockManager manager, string resource) => manager.TryAcquire(resource);

    /// <summary>The key of what is taken, for the resource as it stands in the key's hash tag (escaped).</summary>
    protected virtual string KeyOf(string hashTag) => $"lock:{{{hashTag}}}";

    [Fact]
    public async Task AcquireAsync_FreeLock_ReturnsHandleWithPlausibleInfo()
    {
        await using var manager = await ManagerAsync(new LockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(10) } });
        var resource = NewResource();
        var before = TimeProvider.System.GetUtcNow();

        await using var handle = await AcquireAsync(manager, resource);

        Assert.Equal(resource, handle.Resource);
        Assert.Equal(KeyOf(resource), handle.Key);
        Assert.Matches("^[0-9a-f]{32}$", handle.HolderId);
        Assert.Equal(1, handle.AcquiredOnAttempt);
        Assert.InRange(handle.AcquireDelay, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        // Less than the TTL by at least the drift allowance: 2 ms, and on Redis 1% of the TTL too
        // (RedisLockManagerOptions.ClockDriftFactor); in one process no clock drifts from another.
        var drift = TimeSpan.FromMilliseconds(manager is RedisLockManager ? 102 : 2);
        Assert.InRange(handle.Validity, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(10) - drift);
        Assert.InRange(handle.ValidUntil, before + TimeSpan.FromSeconds(9), before + TimeSpan.FromSeconds(10));
        Assert.Equal(LockState.Held, handle.State);
    }

    [Fact]
    public async Task TryAcquireAsync_HeldByOtherManager_ReturnsNull()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();

        await using var held = await AcquireAsync(first, resource);
        var stopwatch = Stopwatch.StartNew();
        var other = await TryAcquireAsync(second, resource);

        Assert.Null(other);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), "one attempt, no waiting for the 30 s TTL");
    }

    [Fact]
    public async Task AcquireAsync_HeldByOther_AcquiresOnceReleased()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockManagerOptions { Defaults = { RetryDelay = TimeSpan.FromMilliseconds(20) } });
        var resource = NewResource();
        var held = await AcquireAsync(first, resource);

        var waiting = AcquireAsync(second, resource, TimeSpan.FromSeconds(10));
        await Task.Delay(150); // time must pass: the waiter may not get the lock while it is held
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
        await using var held = await AcquireAsync(first, resource);

        var stopwatch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => AcquireAsync(second, resource, TimeSpan.FromMilliseconds(300)));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromSeconds(5)); // bounded by the timeout, not the 30 s TTL
        Assert.Equal(resource, ex.Resource);
        Assert.True(ex.Attempts > 1);
    }

    [Fact]
    public async Task TryAcquireAsync_WithTimeout_ReturnsNullWhenStillHeld()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        await using var held = await AcquireAsync(first, resource);

        var stopwatch = Stopwatch.StartNew();
        Assert.Null(await TryAcquireAsync(second, resource, TimeSpan.FromMilliseconds(200)));
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsAndLeavesNoLock()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        await using var third = await ManagerAsync();
        var resource = NewResource();
        var held = await AcquireAsync(first, resource);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AcquireAsync(second, resource, cancellationToken: cancellation.Token));
        await held.ReleaseAsync();

        // The release may have reserved the lock for the waiter that was just leaving the line; that
        // reservation is cleared by its leave or expires with the handoff grace (HandoffGrace, 50 ms).
        await using var free = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(2), () => TryAcquireAsync(third, resource));
    }

    [Fact]
    public async Task AcquireAsync_AlreadyCancelledToken_ThrowsWithoutTakingTheLock()
    {
        await using var manager = await ManagerAsync();
        await using var other = await ManagerAsync();
        var resource = NewResource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AcquireAsync(manager, resource, cancellationToken: new CancellationToken(true)));

        await using var free = await TryAcquireAsync(other, resource);
        Assert.NotNull(free);
    }

    [Fact]
    public async Task AcquireAsync_MaxRetriesRunOut_ThrowsAfterOnePlusRetriesAttempts()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockManagerOptions { Defaults = { MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(10) } });
        var resource = NewResource();
        await using var held = await AcquireAsync(first, resource);

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => AcquireAsync(second, resource));

        Assert.Equal(3, ex.Attempts);
    }

    [Fact]
    public async Task AcquireAsync_HolderNeverReleases_LockFreedByTtl()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockManagerOptions { Defaults = { RetryDelay = TimeSpan.FromMilliseconds(20) } });
        var resource = NewResource();
        var stale = await AcquireAsync(first, new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(300), AutoExtend = false });

        await using var taken = await AcquireAsync(second, resource, TimeSpan.FromSeconds(5));
        var takenAt = TimeProvider.System.GetUtcNow();

        Assert.NotEqual(stale.HolderId, taken.HolderId);
        Assert.True(taken.AcquiredOnAttempt > 1, "the lock was held when the second owner first tried");
        Assert.True(takenAt >= stale.ValidUntil, $"taken at {takenAt:O}, before the first owner's validity ended at {stale.ValidUntil:O}");
        Assert.Equal(LockState.Lost, stale.State);
        Assert.True(stale.LostToken.IsCancellationRequested, "the lost signal fires by the validity deadline");
        Assert.False(await stale.ReleaseAsync(), "the expired owner no longer owns the lock");
        Assert.Null(await TryAcquireAsync(first, resource));
        Assert.Equal(LockState.Held, taken.State);
    }

    [Fact]
    public async Task ExtendAsync_WhileHeld_KeepsLockPastOriginalTtl()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        await using var handle = await AcquireAsync(first, new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(400) });
        var validBefore = handle.ValidUntil;

        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(5)));
        await Task.Delay(600); // time must pass: past the original TTL

        Assert.Null(await TryAcquireAsync(second, resource));
        Assert.True(handle.ValidUntil > validBefore + TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task ExtendAsync_NonPositiveTtl_ThrowsBeforeTouchingRedis()
    {
        await using var manager = await ManagerAsync();
        await using var handle = await AcquireAsync(manager, NewResource());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("ttl", () => handle.ExtendAsync(TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("ttl", () => handle.ExtendAsync(TimeSpan.FromSeconds(-1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("ttl", () => handle.ExtendAsync(TimeSpan.FromDays(365)));
        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(5)), "a zero TTL must never reach PEXPIRE, which would delete the key");
    }

    [Fact]
    public async Task ExtendAndRelease_CancelledToken_ThrowAndLeaveTheLockHeld()
    {
        await using var manager = await ManagerAsync();
        await using var other = await ManagerAsync();
        var resource = NewResource();
        var handle = await AcquireAsync(manager, resource);
        var cancelled = new CancellationToken(true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.ExtendAsync(TimeSpan.FromSeconds(5), cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.ReleaseAsync(cancelled));

        Assert.Null(await TryAcquireAsync(other, resource));
        Assert.True(await handle.ReleaseAsync(), "the handle still owns the lock and can release it");
    }

    [Fact]
    public async Task ReleaseAsync_ByExpiredOwner_DoesNotTouchNewOwnersLock()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync(new LockManagerOptions { Defaults = { RetryDelay = TimeSpan.FromMilliseconds(20) } });
        await using var third = await ManagerAsync();
        var resource = NewResource();
        var stale = await AcquireAsync(first, new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(200), AutoExtend = false });
        await using var owner = await AcquireAsync(second, resource, TimeSpan.FromSeconds(5));

        Assert.False(await stale.ReleaseAsync());
        Assert.False(await stale.ExtendAsync(TimeSpan.FromSeconds(30)));

        Assert.Null(await TryAcquireAsync(third, resource));
        Assert.True(await owner.ExtendAsync(), "the new owner's lock is intact");
    }

    [Fact]
    public async Task ReleaseAsync_Twice_ReleasesOnceAndFreesTheLock()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var handle = await AcquireAsync(manager, resource);

        Assert.True(await handle.ReleaseAsync());
        Assert.False(await handle.ReleaseAsync());
        Assert.False(await handle.ExtendAsync(TimeSpan.FromSeconds(1)));

        await using var again = await TryAcquireAsync(manager, resource);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task DisposeAsync_Handle_ReleasesTheLock()
    {
        await using var manager = await ManagerAsync();
        await using var other = await ManagerAsync();
        var resource = NewResource();
        await using (var handle = await AcquireAsync(manager, resource))
        {
            Assert.Null(await TryAcquireAsync(other, resource));
        }

        await using var free = await TryAcquireAsync(other, resource);
        Assert.NotNull(free);
    }

    [Fact]
    public async Task AcquireAsync_CustomValue_IsStoredAndReported()
    {
        await using var manager = await ManagerAsync();
        var request = new LockRequest(NewResource()) { HolderId = "worker-7", Ttl = TimeSpan.FromSeconds(3) };

        await using var handle = await AcquireAsync(manager, request);

        Assert.Equal("worker-7", handle.HolderId);
        Assert.True(handle.Validity <= TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task SyncWrappers_AcquireTryAcquireRelease_Work()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();

        using var handle = Acquire(manager, resource, TimeSpan.FromSeconds(5));
        Assert.Null(TryAcquire(manager, resource));
        Assert.True(handle.Extend(TimeSpan.FromSeconds(5)));
        Assert.True(handle.Release());
        using var again = TryAcquire(manager, resource);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task TwoManagers_ContendingWorkers_NeverOverlap()
    {
        await using var first = await ManagerAsync(new LockManagerOptions { Defaults = { RetryDelay = TimeSpan.FromMilliseconds(5) } });
        await using var second = await ManagerAsync(new LockManagerOptions { Defaults = { RetryDelay = TimeSpan.FromMilliseconds(5) } });
        var resource = NewResource();
        var inside = 0;
        var overlaps = 0;
        var entries = 0;

        async Task WorkerAsync(ILockManager manager)
        {
            for (var i = 0; i < 25; i++)
            {
                await using var handle = await AcquireAsync(manager, resource, TimeSpan.FromSeconds(20));
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
        var manager = await ManagerAsync(new LockManagerOptions { AutoReleaseOnDispose = true });
        await using var other = await ManagerAsync();
        var a = await AcquireAsync(manager, NewResource());
        var b = await AcquireAsync(manager, NewResource());

        await manager.DisposeAsync();

        await using var freeA = await TryAcquireAsync(other, a.Resource);
        await using var freeB = await TryAcquireAsync(other, b.Resource);
        Assert.NotNull(freeA);
        Assert.NotNull(freeB);
        Assert.False(await a.ReleaseAsync(), "already released by the manager");
    }

    [Fact]
    public async Task DisposeAsync_WithoutAutoRelease_LeavesLocksToTheirTtl()
    {
        var manager = await ManagerAsync(new LockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(5) } });
        await using var other = await ManagerAsync();
        var handle = await AcquireAsync(manager, NewResource());

        await manager.DisposeAsync();

        Assert.Null(await TryAcquireAsync(other, handle.Resource));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => handle.ReleaseAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => AcquireAsync(manager, NewResource()));
        await handle.DisposeAsync(); // never throws
    }

    [Fact]
    public async Task CheckNodesAsync_AMajorityAnswers_IsAvailable()
    {
        await using var manager = await ManagerAsync();

        var status = await manager.CheckNodesAsync();

        Assert.True(status.Available, $"{status.Answering} of {status.Nodes} nodes answered");
        Assert.InRange(status.Answering, status.Quorum, status.Nodes);
    }

    [Fact]
    public async Task ReleaseAsync_HandleFromAnotherManager_ThrowsArgumentException()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        await using var handle = await AcquireAsync(first, NewResource());

        await Assert.ThrowsAsync<ArgumentException>("handle", () => second.ReleaseAsync(handle));
        Assert.True(await first.ReleaseAsync(handle));

        // Regression: the message named the caller's kind of manager as the issuer's.
        await using var elsewhere = new InMemoryLockManager();
        await using var foreign = await elsewhere.AcquireAsync(NewResource());
        var ex = await Assert.ThrowsAsync<ArgumentException>("handle", () => first.ReleaseAsync(foreign));
        var article = first is InMemoryLockManager ? "another" : "an";
        Assert.Contains($"issued by {article} InMemoryLockManager, not this {first.GetType().Name}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task AcquireAsync_BadResourceName_ThrowsArgumentException(string? resource)
    {
        await using var manager = await ManagerAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => AcquireAsync(manager, resource!));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => TryAcquireAsync(manager, resource!));
    }

    [Fact]
    public async Task AcquireAsync_ResourceOver1KiB_ThrowsArgumentException()
    {
        await using var manager = await ManagerAsync();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => AcquireAsync(manager, new string('x', 1025)));
        Assert.Equal("resource", ex.ParamName);
    }

    [Fact]
    public async Task AcquireAsync_NegativeTimeout_ThrowsArgumentOutOfRange()
    {
        await using var manager = await ManagerAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("timeout", () => AcquireAsync(manager, NewResource(), TimeSpan.FromSeconds(-2)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("timeout", () => TryAcquireAsync(manager, NewResource(), TimeSpan.FromMilliseconds(-5)));
    }

    [Fact]
    public async Task AcquireAsync_ResourceWithBraces_CannotShareAnotherResourcesKey()
    {
        await using var manager = await ManagerAsync();

        await using var plain = await AcquireAsync(manager, "a");
        await using var braced = await TryAcquireAsync(manager, "a}b");

        Assert.NotNull(braced);
        Assert.Equal(KeyOf("a%7Db"), braced.Key);
    }
    /// <summary>
    /// A handle the application drops without releasing it gives the lock up when it is collected
    /// (its finalizer), on every topology and for every kind of hold this suite reruns on: a waiter
    /// gets it long before the TTL.
    /// </summary>
    [Fact]
    public async Task DroppedHandle_GivesTheLockUpWhenCollected_AWaiterGetsItLongBeforeItsTtl()
    {
        var ttl = TimeSpan.FromMinutes(4);
        await using var manager = await ManagerAsync(new LockManagerOptions { Defaults = { Ttl = ttl } });
        await using var other = await ManagerAsync();
        var resource = NewResource();
        await DroppedHandles.AcquireAndDropAsync(() => AcquireAsync(manager, resource));

        await using var next = await DroppedHandles.UntilGivenUpAsync(AcquireAsync(other, resource, ttl / 2));

        Assert.Equal(LockState.Held, next.State);
    }
}
