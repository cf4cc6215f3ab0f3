using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Semaphores over several independent masters are refused at the call (docs/redlock.md says why:
/// counts kept per node do not bound the holders).
/// </summary>
public abstract class RedlockSemaphoreTests
{
    private readonly RedisNodesFixture _nodes;

    protected RedlockSemaphoreTests(RedisNodesFixture nodes) => _nodes = nodes;

    [Fact]
    public async Task AcquireSemaphoreAsync_SeveralMasters_ThrowsNotSupportedBeforeSending()
    {
        await using var manager = await _nodes.ConnectAsync();
        var resource = "sem-" + Guid.NewGuid().ToString("N");

        await Assert.ThrowsAsync<NotSupportedException>(() => manager.AcquireSemaphoreAsync(resource, 2));
        await Assert.ThrowsAsync<NotSupportedException>(() => manager.TryAcquireSemaphoreAsync(resource, 2));
        await Assert.ThrowsAsync<NotSupportedException>(() => manager.InspectSemaphoreAsync(resource));
        await Assert.ThrowsAsync<NotSupportedException>(() => manager.ForceReleaseSemaphoreAsync(resource));
        Assert.Equal(0, await _nodes.CountHoldersAsync($"lock:{{{resource}}}:semaphore"));
    }
}
