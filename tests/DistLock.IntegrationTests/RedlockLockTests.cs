using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesLockTests(ThreeNodesFixture nodes) : LockSemanticsTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesLockTests(FiveNodesFixture nodes) : LockSemanticsTests(nodes);
