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

[CollectionDefinition(Name)]
public sealed class SentinelCollection : ICollectionFixture<SentinelFixture>
{
    public const string Name = "sentinel";
}
