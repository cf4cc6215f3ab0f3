using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Fencing tokens and what disposing the manager does to its leases, on every topology, through
/// <see cref="ILockManager"/> only. <see cref="RealTimeLeaseTests"/> has what needs time to pass
/// on a real server, <see cref="RedisLeaseTests"/> what needs Redis's keys; the rest of the lease's
/// clock (extension, MaxHoldTime, release) runs on a fake clock in DistLock.Tests.
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
        var manager = await _nodes.ConnectAsync(new LockManagerOptions { AutoReleaseOnDispose = true });
        await using var other = await _nodes.ConnectAsync();
        var handle = await manager.AcquireAsync(NewResource());

        await manager.DisposeAsync();

        Assert.Equal(LockState.Released, handle.State);
        Assert.False(handle.LostToken.IsCancellationRequested);
        await using var free = await other.TryAcquireAsync(handle.Resource);
        Assert.NotNull(free);
    }
}
