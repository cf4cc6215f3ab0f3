using DistLock.RedisRig;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// Redlock nodes must be independent servers. One server under two names would count twice
/// towards the quorum; with the third node down, a lock it refused was reported busy (null)
/// instead of an outage. Servers are told apart by their run_id, not by the endpoint's spelling.
/// </summary>
public sealed class NodeIdentityTests
{
    [Fact]
    public async Task ConnectAsync_OneServerUnderTwoNames_ThrowsArgumentExceptionNamingTheConfigurations()
    {
        var servers = await RedisServer.StartManyAsync(2);
        try
        {
            var port = servers[0].Port;
            var error = await Assert.ThrowsAsync<ArgumentException>("configurations", () => RedisLockManager.ConnectAsync(
                [$"127.0.0.1:{port}", $"localhost:{port}", servers[1].Endpoint]));

            Assert.Contains("same server", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task ConnectAsync_OneServerUnderTwoNames_ThirdNodeDown_ThrowsArgumentException_NotBusy()
    {
        var servers = await RedisServer.StartManyAsync(2);
        try
        {
            var port = servers[0].Port;
            servers[1].Kill();

            await Assert.ThrowsAsync<ArgumentException>("configurations", () => RedisLockManager.ConnectAsync(
                [$"127.0.0.1:{port}", $"localhost:{port}", servers[1].Endpoint + ",connectTimeout=1000"]));
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task Constructor_OneServerUnderTwoNames_ThrowsArgumentExceptionNamingTheNodes()
    {
        var servers = await RedisServer.StartManyAsync(2);
        try
        {
            var port = servers[0].Port;
            await using var byAddress = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
            await using var byName = await ConnectionMultiplexer.ConnectAsync($"localhost:{port}");
            await using var other = await servers[1].ConnectAsync();

            var error = Assert.Throws<ArgumentException>("nodes", () => new RedisLockManager([byAddress, byName, other]));

            Assert.Contains("same server", error.Message, StringComparison.Ordinal);
            await using var distinct = new RedisLockManager([byAddress, other]);
            Assert.Equal(2, distinct.NodeCount);
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }
}
