using DistLock.RedisRig;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// A primary, a replica and three Sentinels; managers connect through the Sentinels
/// (<c>serviceName=</c>), so they follow a failover.
/// </summary>
public sealed class SentinelFixture() : RedisNodesFixture(1)
{
    public RedisSentinelGroup Group { get; private set; } = null!;

    protected override async Task<IReadOnlyList<string>> StartNodesAsync(int count)
    {
        Group = await RedisSentinelGroup.StartAsync();
        return [Group.Configuration];
    }

    protected override async Task StopNodesAsync() => await Group.DisposeAsync();
}

// Alone, like the fault suite: starting the servers and polling them with redis-cli spawns
// processes that, beside other collections, starved their lease timers on 2 cores.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SentinelCollection : ICollectionFixture<SentinelFixture>
{
    public const string Name = "sentinel";
}
