using System.Globalization;

namespace DistLock.RedisRig;

/// <summary>
/// A primary, its replica, and three Sentinels watching them, on loopback ports: what a client
/// reaches through <c>serviceName=</c>, and what <c>SENTINEL FAILOVER</c> turns around.
/// </summary>
public sealed class RedisSentinelGroup : IAsyncDisposable
{
    public const string ServiceName = "distlock";

    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    private readonly RedisServer[] _data;
    private readonly RedisServer[] _sentinels;

    private RedisSentinelGroup(RedisServer[] data, RedisServer[] sentinels)
    {
        _data = data;
        _sentinels = sentinels;
    }

    /// <summary>The primary and the replica, in either role.</summary>
    public IReadOnlyList<RedisServer> DataServers => _data;

    public IReadOnlyList<RedisServer> Sentinels => _sentinels;

    /// <summary>The StackExchange.Redis configuration string that connects through the Sentinels.</summary>
    public string Configuration => string.Join(",", _sentinels.Select(s => s.Endpoint)) + ",serviceName=" + ServiceName;

    public static async Task<RedisSentinelGroup> StartAsync()
    {
        var primary = await RedisServer.StartAsync().ConfigureAwait(false);
        var data = new List<RedisServer> { primary };
        var sentinels = new List<RedisServer>();
        try
        {
            data.Add(await RedisServer.StartAsync("--replicaof", "127.0.0.1", primary.Port.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false));
            await Poll.UntilAsync(data[1].InSyncAsync, SettleTimeout, "the replica to sync").ConfigureAwait(false);

            // Sentinels find the replica through the primary, and each other through its hello channel.
            var configuration = string.Join(
                '\n',
                $"sentinel monitor {ServiceName} 127.0.0.1 {primary.Port} 2",
                $"sentinel down-after-milliseconds {ServiceName} 2000",
                $"sentinel failover-timeout {ServiceName} 3000",
                string.Empty);
            for (var i = 0; i < 3; i++)
            {
                sentinels.Add(await RedisServer.StartSentinelAsync(configuration).ConfigureAwait(false));
            }

            var group = new RedisSentinelGroup([.. data], [.. sentinels]);
            await Poll.UntilAsync(group.SentinelsKnowEverythingAsync, SettleTimeout, "the Sentinels to find the replica and each other").ConfigureAwait(false);
            return group;
        }
        catch
        {
            foreach (var server in data.Concat(sentinels))
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>The primary the Sentinels name now.</summary>
    public async Task<RedisServer> PrimaryAsync()
    {
        var address = await RedisCli.CommandAsync(_sentinels[0].Port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", ServiceName).ConfigureAwait(false);
        var port = int.Parse(address.Split('\n')[1].Trim(), CultureInfo.InvariantCulture);
        return _data.Single(s => s.Port == port);
    }

    /// <summary>The data server that is not the primary.</summary>
    public async Task<RedisServer> ReplicaAsync()
    {
        var primary = await PrimaryAsync().ConfigureAwait(false);
        var replica = _data.Single(s => s != primary);

        // After a failover the old primary replicates only once a Sentinel has reconfigured it.
        await Poll.UntilAsync(replica.InSyncAsync, SettleTimeout, $"{replica.Endpoint} to replicate").ConfigureAwait(false);
        return replica;
    }

    /// <summary>
    /// <c>SENTINEL FAILOVER</c>: the replica is promoted (and the old primary later made its
    /// replica). Returns once every Sentinel names the new primary and it says it is one.
    /// </summary>
    public async Task<RedisServer> FailoverAsync()
    {
        var replica = await ReplicaAsync().ConfigureAwait(false);
        await RedisCli.CommandAsync(_sentinels[0].Port, "SENTINEL", "FAILOVER", ServiceName).ConfigureAwait(false);
        await Poll.UntilAsync(
            async () =>
            {
                foreach (var sentinel in _sentinels)
                {
                    var address = await RedisCli.CommandAsync(sentinel.Port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", ServiceName).ConfigureAwait(false);
                    if (!address.EndsWith(replica.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return await replica.RoleAsync().ConfigureAwait(false) == "master";
            },
            SettleTimeout,
            $"{replica.Endpoint} to take over").ConfigureAwait(false);
        return replica;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _sentinels.Concat(_data))
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<bool> SentinelsKnowEverythingAsync()
    {
        foreach (var sentinel in _sentinels)
        {
            var replicas = await RedisCli.CommandAsync(sentinel.Port, "SENTINEL", "REPLICAS", ServiceName).ConfigureAwait(false);
            var others = await RedisCli.CommandAsync(sentinel.Port, "SENTINEL", "SENTINELS", ServiceName).ConfigureAwait(false);
            if (!replicas.Contains(_data[1].Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                || _sentinels.Where(s => s != sentinel).Any(s => !others.Contains(s.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }
}
