using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>The lease cases that tamper with Redis's keys; the rest is in <see cref="LeaseTests"/>.</summary>
public abstract class RedisLeaseTests
{
    private readonly RedisNodesFixture _nodes;

    protected RedisLeaseTests(RedisNodesFixture nodes) => _nodes = nodes;

    private static string NewResource() => "lease-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task LostToken_KeyDeletedBehindTheHoldersBack_FiresAtTheNextExtension()
    {
        await using var manager = await _nodes.ConnectAsync();
        await using var handle = await manager.AcquireAsync(new LockRequest(NewResource()) { Ttl = TimeSpan.FromMilliseconds(600) });
        var lost = handle.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(5));

        // Redlock returns at the first majority; a node that grants after the delete below would
        // still hold the key when the lease is lost, so the delete waits for every node's answer.
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await _nodes.CountHoldersAsync(handle.Key) == _nodes.NodeCount));
        await _nodes.DeleteEverywhereAsync(handle.Key);

        await lost;
        Assert.Equal(LockState.Lost, handle.State);
        Assert.False(await handle.ExtendAsync());
        Assert.Equal(0, await _nodes.CountHoldersAsync(handle.Key));
    }
}
