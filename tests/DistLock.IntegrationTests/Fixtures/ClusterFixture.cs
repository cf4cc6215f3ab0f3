using System.Globalization;
using DistLock.RedisRig;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// A Redis Cluster of three primaries with one replica each, one logical lock node: the shared
/// suites run on it, and the topology tests move slots and fail primaries over under held locks.
/// </summary>
public sealed class ClusterFixture() : RedisNodesFixture(1)
{
    public RedisCluster Cluster { get; private set; } = null!;

    protected override async Task<IReadOnlyList<string>> StartNodesAsync(int count)
    {
        Cluster = await RedisCluster.StartAsync(primaries: 3, replicasPerPrimary: 1);
        return [Cluster.Configuration];
    }

    protected override async Task StopNodesAsync() => await Cluster.DisposeAsync();

    /// <summary>Wake channels live in sharded pub/sub here: PUBSUB SHARDCHANNELS, summed over the primaries.</summary>
    public override async Task<int[]> ChannelsAsync(string pattern)
    {
        var total = 0;
        foreach (var primary in await Cluster.PrimariesAsync())
        {
            var listed = await RedisCli.CommandAsync(primary.Port, "PUBSUB", "SHARDCHANNELS", pattern);
            total += listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        }

        return [total];
    }

    /// <summary>How many keys each primary holds (DBSIZE), to see locks spread over the cluster.</summary>
    public async Task<int[]> KeysPerPrimaryAsync() =>
        await Task.WhenAll((await Cluster.PrimariesAsync()).Select(async p =>
            int.Parse(await RedisCli.CommandAsync(p.Port, "DBSIZE"), CultureInfo.InvariantCulture)));
}

// Alone, like the fault suite: starting the servers and polling them with redis-cli spawns
// processes that, beside other collections, starved their lease timers on 2 cores.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "redis cluster";
}
