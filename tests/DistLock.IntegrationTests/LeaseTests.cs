using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Fencing tokens, automatic extension and the lost signal, on every topology, through
/// <see cref="ILockManager"/> only; <see cref="RedisLeaseTests"/> has what needs Redis's keys.
/// </summary>
public abstract class LeaseTests
{
    private readonly ILockTopology _nodes;

    protected LeaseTests(ILockTopology topology) => _nodes = topology;

    private static string NewResource() => "lease-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task FencingToken_SuccessiveHolders_StrictlyIncrease()
    {
        await using var first = await _nodes.ConnectAsync();
        await using var second = await _nodes.ConnectAsync();
        var resource = NewResource();
        var tokens = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            await using var handle = await (i % 2 == 0 ? first : second).AcquireAsync(resource, TimeSpan.FromSeconds(5));
            tokens.Add((await handle.GetFencingTokenAsync()));
        }

        Assert.All(tokens, t => Assert.True(t > 0));
        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public async Task FencingToken_NewResource_StartsAtTheServerClockInMicroseconds()
    {
        await using var manager = await _nodes.ConnectAsync();
        var before = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

        await using var handle = await manager.AcquireAsync(NewResource());

        // So that a server restarted without its data still issues tokens above the old ones.
        Assert.InRange((await handle.GetFencingTokenAsync()), before - 60_000_000, before + 60_000_000);
    }

    [Fact]
    public async Task WithoutExtension_TheLockExpires_AndTheHolderLearnsItLostIt()
    {
        await using var first = await _nodes.ConnectAsync();
        await using var second = await _nodes.ConnectAsync();
        var resource = NewResource();
        var stale = await first.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(2), AutoExtend = false });
        var staleToken = await stale.GetFencingTokenAsync();

        // Nobody else asks for the lock: the holder must learn from its own deadline that it lost it.
        await stale.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(5));
        await using var next = await second.AcquireAsync(resource, TimeSpan.FromSeconds(5));

        Assert.Equal(LockState.Lost, stale.State);
        Assert.False(await stale.ExtendAsync());
        Assert.True(await next.GetFencingTokenAsync() > staleToken);
        Assert.Equal(staleToken, await stale.GetFencingTokenAsync()); // issued while held: the same token after
    }

    [Fact]
    public async Task AutoExtend_KeepsTheLockPastItsTtl()
    {
        await using var owner = await _nodes.ConnectAsync();
        await using var other = await _nodes.ConnectAsync();
        var resource = NewResource();
        // Margins a busy 2-core machine cannot eat: a stall (thread pool, CPU) must pass 2/3 of the
        // TTL to lose the lock; 1 s TTLs were lost on CI while other collections started servers.
        await using var handle = await owner.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(2) });

        await Task.Delay(4500); // time must pass: more than two TTLs, so only extensions keep the lock

        Assert.Null(await other.TryAcquireAsync(resource));
        Assert.Equal(LockState.Held, handle.State);
        Assert.False(handle.LostToken.IsCancellationRequested);
        Assert.True(handle.ValidUntil > TimeProvider.System.GetUtcNow());
        Assert.True(await handle.ReleaseAsync());
        Assert.Equal(0, LeaseCount.Of(owner));
    }

    [Fact]
    public async Task ReleaseAsync_StopsExtension_AndNeverFiresLost()
    {
        await using var manager = await _nodes.ConnectAsync();
        var resource = NewResource();
        var handle = await manager.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(300) });

        Assert.True(await handle.ReleaseAsync());
        await Task.Delay(500); // time must pass: past the TTL, when a lease still kept would fire lost

        Assert.Equal(LockState.Released, handle.State);
        Assert.False(handle.LostToken.IsCancellationRequested);
        Assert.Equal(0, LeaseCount.Of(manager));
        await using var again = await manager.TryAcquireAsync(resource);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task MaxHoldTime_ExtensionStops_AndTheLockExpires()
    {
        await using var manager = await _nodes.ConnectAsync(new LockOptions { MaxHoldTime = TimeSpan.FromMilliseconds(500) });
        await using var other = await _nodes.ConnectAsync();
        var resource = NewResource();
        var handle = await manager.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(300) });

        await handle.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(LockState.Lost, handle.State);
        await using var next = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(2), () => other.TryAcquireAsync(resource));
    }

    [Fact]
    public async Task DisposingTheManager_LosesTheLocksItStillHeld()
    {
        var manager = await _nodes.ConnectAsync();
        var handle = await manager.AcquireAsync(NewResource());

        await manager.DisposeAsync();

        Assert.Equal(LockState.Lost, handle.State);
        Assert.True(handle.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task AutoReleaseOnDispose_ReleasesInsteadOfLosing()
    {
        var manager = await _nodes.ConnectAsync(new LockOptions { AutoReleaseOnDispose = true });
        await using var other = await _nodes.ConnectAsync();
        var handle = await manager.AcquireAsync(NewResource());

        await manager.DisposeAsync();

        Assert.Equal(LockState.Released, handle.State);
        Assert.False(handle.LostToken.IsCancellationRequested);
        await using var free = await other.TryAcquireAsync(handle.Resource);
        Assert.NotNull(free);
    }

    [Fact]
    public async Task ExtendAsync_WithShorterTtl_LaterAutoExtensionsUseIt()
    {
        await using var manager = await _nodes.ConnectAsync();
        await using var handle = await manager.AcquireAsync(new LockRequest(NewResource()) { Ttl = TimeSpan.FromSeconds(30) });

        // 2 s, not less: a shorter TTL can be lost to a process stall on a loaded 2-core machine
        // (five servers and a parallel collection share it), which is not what this test is about.
        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(2)));

        Assert.InRange(handle.ValidUntil - TimeProvider.System.GetUtcNow(), TimeSpan.Zero, TimeSpan.FromSeconds(2));
        await Task.Delay(3000); // time must pass: past the shorter TTL: only extensions by it keep the lock
        Assert.Equal(LockState.Held, handle.State);
    }
}
