using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// The lease cases that need time to pass on a real server: a key that expires there, and one
/// kept past its TTL by automatic extension. Redis topologies only (TestMatrix.cs); the in-memory
/// manager, and the rest of the lease's clock, run on a fake clock in DistLock.Tests
/// (InMemoryLeaseTests, InMemoryLockManagerTests, Algorithm/LeaseTests).
/// </summary>
public abstract class RealTimeLeaseTests
{
    private readonly ILockTopology _nodes;

    protected RealTimeLeaseTests(ILockTopology topology) => _nodes = topology;

    private static string NewResource() => "lease-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task WithoutExtension_TheLockExpires_AndTheHolderLearnsItLostIt()
    {
        await using var first = await _nodes.ConnectAsync();
        await using var second = await _nodes.ConnectAsync();
        var resource = NewResource();
        // Long enough to ask for its token while it still holds (tokens are issued on demand).
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
        // Margins a busy 2-core machine cannot eat: extensions come every second, and a stall
        // (thread pool, CPU) must pass 2/3 of the TTL, 2 s, to lose the lock; 1 s TTLs were lost
        // on CI while other collections started servers.
        var ttl = TimeSpan.FromSeconds(3);
        await using var handle = await owner.AcquireAsync(new LockRequest(resource) { Ttl = ttl });

        await Task.Delay(ttl + TimeSpan.FromSeconds(1)); // time must pass on the server: past its TTL, only extensions keep the key

        Assert.Null(await other.TryAcquireAsync(resource));
        Assert.Equal(LockState.Held, handle.State);
        Assert.False(handle.LostToken.IsCancellationRequested);
        Assert.True(handle.ValidUntil > TimeProvider.System.GetUtcNow());
        Assert.True(await handle.ReleaseAsync());
        Assert.Equal(0, LeaseCount.Of(owner));
    }
}
