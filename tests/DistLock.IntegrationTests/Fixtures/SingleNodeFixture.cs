namespace DistLock.IntegrationTests.Fixtures;

/// <summary>One redis-server: the single-instance lock.</summary>
public sealed class SingleNodeFixture() : RedisNodesFixture(1);

[CollectionDefinition(Name)]
public sealed class SingleNodeCollection : ICollectionFixture<SingleNodeFixture>
{
    public const string Name = "single node";
}
