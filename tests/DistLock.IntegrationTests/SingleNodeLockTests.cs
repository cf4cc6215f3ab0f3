using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeLockTests(SingleNodeFixture nodes) : LockSemanticsTests(nodes);
