namespace DistLock.IntegrationTests.Fixtures;

/// <summary>Three independent redis-server masters.</summary>
public sealed class ThreeNodesFixture() : RedisNodesFixture(3);

/// <summary>Five independent redis-server masters.</summary>
public sealed class FiveNodesFixture() : RedisNodesFixture(5);

[CollectionDefinition(Name)]
public sealed class ThreeNodesCollection : ICollectionFixture<ThreeNodesFixture>
{
    public const string Name = "three nodes";
}

[CollectionDefinition(Name)]
public sealed class FiveNodesCollection : ICollectionFixture<FiveNodesFixture>
{
    public const string Name = "five nodes";
}
