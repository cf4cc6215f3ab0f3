using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// The lock semantics that show in what Redis stores (the key, its value, on how many nodes); the
/// rest, the blocking forms included (extensions of any <see cref="ILockManager"/>), is in
/// <see cref="LockSemanticsTests"/>.
/// </summary>
public abstract class RedisLockSemanticsTests
{
    private readonly RedisNodesFixture _nodes;

    protected RedisLockSemanticsTests(RedisNodesFixture nodes) => _nodes = nodes;

    private static string NewResource() => "test-" + Guid.NewGuid().ToString("N");

    private Task<RedisLockManager> ManagerAsync(RedisLockManagerOptions? options = null) => _nodes.ConnectAsync(options);

    /// <summary>
    /// An acquire returns at the first majority; on healthy nodes the others follow within moments.
    /// </summary>
    private Task<bool> HeldOnEveryNodeAsync(string key) =>
        Eventually.TrueWithinAsync(Eventually.Patience, async () => await _nodes.CountHoldersAsync(key) == _nodes.NodeCount);

    [Fact]
    public async Task AcquireAsync_FreeLock_StoresItsIdOnEveryNode()
    {
        await using var manager = await ManagerAsync(new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(10) } });

        await using var handle = await manager.AcquireAsync(NewResource());

        Assert.True(await HeldOnEveryNodeAsync(handle.Key));
        Assert.Equal(handle.HolderId, await _nodes.ValueAsync(handle.Key));
    }

    [Fact]
    public async Task AcquireAsync_CustomValue_IsStoredAsTheLockValue()
    {
        await using var manager = await ManagerAsync();

        await using var handle = await manager.AcquireAsync(new LockRequest(NewResource()) { HolderId = "worker-7", Ttl = TimeSpan.FromSeconds(3) });

        Assert.Equal("worker-7", await _nodes.ValueAsync(handle.Key));
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_LeavesNoKeyOnAnyNode()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        var held = await first.AcquireAsync(resource);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AcquireAsync(resource, cancellationToken: cancellation.Token));
        await held.ReleaseAsync();

        // The release may have reserved the lock for the waiter that was just leaving the line; that
        // reservation is cleared by its leave or expires with the handoff grace (HandoffGrace, 50 ms).
        // The release returns at a majority, so the last node's may still be on its way: a key left
        // behind would live the 30 s TTL, far past this wait.
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(10), async () => await _nodes.CountHoldersAsync(held.Key) == 0));
    }

    [Fact]
    public async Task ExtendAsync_AfterExpiry_ReturnsFalseAndDoesNotRecreateKey()
    {
        await using var manager = await ManagerAsync();
        var handle = await manager.AcquireAsync(new LockRequest(NewResource()) { Ttl = TimeSpan.FromMilliseconds(100), AutoExtend = false });
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(5), async () => await _nodes.CountHoldersAsync(handle.Key) == 0));

        Assert.False(await handle.ExtendAsync(TimeSpan.FromSeconds(10)));
        // A node whose acquire ran late (after the others' keys expired) still holds its own key
        // and extends it: that is no lock. Recreating the key would give it a majority.
        Assert.True(await _nodes.CountHoldersAsync(handle.Key) < _nodes.NodeCount / 2 + 1, "the extension recreated the lock");
    }

    [Fact]
    public async Task ExtendAsync_NonPositiveTtl_LeavesTheKeyOnEveryNode()
    {
        await using var manager = await ManagerAsync();
        await using var handle = await manager.AcquireAsync(NewResource());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("ttl", () => handle.ExtendAsync(TimeSpan.Zero));

        Assert.True(await HeldOnEveryNodeAsync(handle.Key), "a zero TTL must never reach PEXPIRE, which would delete the key");
    }

    [Fact]
    public async Task DisposeAsync_WithAutoRelease_DeletesEveryKey()
    {
        var manager = await ManagerAsync(new RedisLockManagerOptions { AutoReleaseOnDispose = true });
        var a = await manager.AcquireAsync(NewResource());
        var b = await manager.AcquireAsync(NewResource());

        await manager.DisposeAsync();

        Assert.Equal(0, await _nodes.CountHoldersAsync(a.Key));
        Assert.Equal(0, await _nodes.CountHoldersAsync(b.Key));
    }

    [Fact]
    public async Task InspectAsync_OneNodesKeyExpiresSooner_ReportsHowLongAMajorityKeepsTheLock()
    {
        await using var manager = await ManagerAsync();
        await using var handle = await manager.AcquireAsync(new LockRequest(NewResource()) { Ttl = TimeSpan.FromSeconds(30) });
        Assert.True(await HeldOnEveryNodeAsync(handle.Key));

        // One node's copy expiring early (a late straggler, a replica promoted with an older TTL)
        // frees nothing while the others still hold it: no one else can reach a majority before theirs expire.
        Assert.True(await _nodes.Inspectors[0].GetDatabase().KeyExpireAsync(handle.Key, TimeSpan.FromSeconds(2)));
        var left = (await manager.InspectAsync(handle.Resource)).RemainingTtl ?? TimeSpan.Zero;

        if (_nodes.NodeCount >= 3)
        {
            Assert.InRange(left, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));
        }
        else
        {
            Assert.InRange(left, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(2));
        }
    }
}
