using DistLock.RedisRig;
using StackExchange.Redis;

namespace DistLock.Benchmarks;

internal static class RedisRigInfo
{
    public static async Task<string?> VersionAsync(RedisServer server)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        return connection.GetServer(server.Endpoint).Version.ToString();
    }
}
