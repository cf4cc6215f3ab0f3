using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;

namespace DistLock.IntegrationTests;

/// <summary>
/// Redis::DistLock's version_check. A real server cannot claim to be old, so the test hides INFO
/// (rename-command) and tells the client which version to assume, which is exactly what the
/// client reports when a server's INFO is unavailable.
/// </summary>
public sealed class VersionCheckTests
{
    [Fact]
    public async Task TryAcquireAsync_ServerOlderThan2612_ThrowsDistLockException()
    {
        await using var server = await RedisServer.StartAsync("--rename-command", "INFO", string.Empty);
        var logger = new ListLogger();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + ",version=2.6.0", logger: logger);

        var ex = await Assert.ThrowsAsync<DistLockException>(() => manager.TryAcquireAsync("old"));
        Assert.Contains(logger.Entries, e => e.Id.Id == 1010);

        Assert.Contains("2.6.12", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2.6.0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryAcquireAsync_VersionCheckOff_UsesTheServerAnyway()
    {
        await using var server = await RedisServer.StartAsync("--rename-command", "INFO", string.Empty);
        await using var manager = await RedisLockManager.ConnectAsync(
            server.Endpoint + ",version=2.6.0", new RedisLockManagerOptions { VersionCheck = false });

        await using var handle = await manager.TryAcquireAsync("old");

        Assert.NotNull(handle);
    }

    [Fact]
    public async Task TryAcquireAsync_CurrentServer_PassesTheCheck()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint);

        await using var handle = await manager.TryAcquireAsync("current");

        Assert.NotNull(handle);
    }
}
