using DistLock.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests;

// The whole suite x topology matrix, in one place: a new topology or a new suite is one line per
// pair here. Each suite is an abstract class of behavioural cases; each line below runs one suite
// on one topology's fixture (shared by its collection). The suites that take an ILockTopology use
// ILockManager only, so every topology runs them, the in-memory manager included; the Redis*
// suites and LineOfWaitersTests look at what Redis holds (keys, channels, the line of waiters) or
// use members only RedisLockManager has, so they need a RedisNodesFixture.
// RealTimeLeaseTests takes an ILockTopology too but leaves out the in-memory manager: it waits for
// time to pass on a real server, and the in-memory manager's clock is faked in DistLock.Tests.
// SemaphoreOfOneLockSemanticsTests reruns LockSemanticsTests with a semaphore of one as the lock,
// where semaphores run: Redlock refuses them at the call (RedlockSemaphoreTests). LockSemanticsTests
// is also the write-lock rerun, the write lock being the exclusive lock (its doc says more).
//
// | suite                   | single | 3 nodes | 5 nodes | 2+1 dead | cluster | sentinel | garnet | in memory |
// | ----------------------- | ------ | ------- | ------- | -------- | ------- | -------- | ------ | --------- |
// | LockSemanticsTests      |   x    |    x    |    x    |    x     |    x    |    x     |   x    |     x     |
// | SemaphoreOfOneLockSem.  |   x    |         |         |          |    x    |    x     |   x    |     x     |
// | RedisLockSemanticsTests |   x    |    x    |    x    |          |    x    |    x     |   x    |           |
// | LeaseTests              |   x    |    x    |    x    |    x     |    x    |          |   x    |     x     |
// | RealTimeLeaseTests      |   x    |    x    |    x    |    x     |    x    |          |   x    |           |
// | RedisLeaseTests         |   x    |    x    |    x    |          |    x    |          |   x    |           |
// | WaitingTests            |   x    |    x    |    x    |    x     |    x    |    x     |   x    |     x     |
// | RedisWaitingTests       |   x    |    x    |    x    |          |    x    |    x     |   x    |           |
// | AdministrationTests     |   x    |    x    |         |          |    x    |          |   x    |     x     |
// | LineOfWaitersTests      |   x    |    x    |         |          |         |          |        |           |
// | DeadSetWaiterTests      |   x    |    x    |         |          |         |          |        |           |
// | ReaderWriterTests       |   x    |    x    |    x    |    x     |    x    |    x     |   x    |     x     |
// | SemaphoreTests          |   x    | refused |         |          |    x    |    x     |   x    |     x     |
// | RedisSemaphoreTests     |   x    |         |         |          |    x    |          |   x    |           |
// | SemaphoreLineOfWaiters  |   x    |         |         |          |         |          |        |           |
// | LeaderElectionSemantics |   x    |    x    |         |          |    x    |          |        |     x     |
// | MultiResourceSemantics  |   x    |    x    |         |          |    x    |          |   x    |     x     |

// Single node: one redis-server.
[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeLockTests(SingleNodeFixture nodes) : LockSemanticsTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeSemaphoreOfOneLockTests(SingleNodeFixture nodes) : SemaphoreOfOneLockSemanticsTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeRedisLockTests(SingleNodeFixture nodes) : RedisLockSemanticsTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeLeaseTests(SingleNodeFixture nodes) : LeaseTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeRealTimeLeaseTests(SingleNodeFixture nodes) : RealTimeLeaseTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeRedisLeaseTests(SingleNodeFixture nodes) : RedisLeaseTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeWaitingTests(SingleNodeFixture nodes) : WaitingTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeRedisWaitingTests(SingleNodeFixture nodes) : RedisWaitingTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeAdministrationTests(SingleNodeFixture nodes) : AdministrationTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeLineOfWaitersTests(SingleNodeFixture nodes) : LineOfWaitersTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeDeadSetWaiterTests(SingleNodeFixture nodes, ITestOutputHelper output) : DeadSetWaiterTests(nodes, output);

// Redlock over three independent redis-server masters.
[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesLockTests(ThreeNodesFixture nodes) : LockSemanticsTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesRedisLockTests(ThreeNodesFixture nodes) : RedisLockSemanticsTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesLeaseTests(ThreeNodesFixture nodes) : LeaseTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesRealTimeLeaseTests(ThreeNodesFixture nodes) : RealTimeLeaseTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesRedisLeaseTests(ThreeNodesFixture nodes) : RedisLeaseTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesWaitingTests(ThreeNodesFixture nodes) : WaitingTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesRedisWaitingTests(ThreeNodesFixture nodes) : RedisWaitingTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesAdministrationTests(ThreeNodesFixture nodes) : AdministrationTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesLineOfWaitersTests(ThreeNodesFixture nodes) : LineOfWaitersTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesDeadSetWaiterTests(ThreeNodesFixture nodes, ITestOutputHelper output) : DeadSetWaiterTests(nodes, output);

// Redlock over five independent redis-server masters.
[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesLockTests(FiveNodesFixture nodes) : LockSemanticsTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesRedisLockTests(FiveNodesFixture nodes) : RedisLockSemanticsTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesLeaseTests(FiveNodesFixture nodes) : LeaseTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesRealTimeLeaseTests(FiveNodesFixture nodes) : RealTimeLeaseTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesRedisLeaseTests(FiveNodesFixture nodes) : RedisLeaseTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesWaitingTests(FiveNodesFixture nodes) : WaitingTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesRedisWaitingTests(FiveNodesFixture nodes) : RedisWaitingTests(nodes);

// Redlock over three masters of which one is dead: the live majority must carry every case.
[Collection(TwoLiveOneDeadCollection.Name)]
public sealed class TwoLiveOneDeadLockTests(TwoLiveOneDeadFixture nodes) : LockSemanticsTests(nodes);

[Collection(TwoLiveOneDeadCollection.Name)]
public sealed class TwoLiveOneDeadLeaseTests(TwoLiveOneDeadFixture nodes) : LeaseTests(nodes);

[Collection(TwoLiveOneDeadCollection.Name)]
public sealed class TwoLiveOneDeadRealTimeLeaseTests(TwoLiveOneDeadFixture nodes) : RealTimeLeaseTests(nodes);

[Collection(TwoLiveOneDeadCollection.Name)]
public sealed class TwoLiveOneDeadWaitingTests(TwoLiveOneDeadFixture nodes) : WaitingTests(nodes);

// Redis Cluster: three primaries with a replica each (ClusterTopologyTests adds what only a cluster has).
[Collection(ClusterCollection.Name)]
public sealed class ClusterLockTests(ClusterFixture nodes) : LockSemanticsTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterSemaphoreOfOneLockTests(ClusterFixture nodes) : SemaphoreOfOneLockSemanticsTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterRedisLockTests(ClusterFixture nodes) : RedisLockSemanticsTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterLeaseTests(ClusterFixture nodes) : LeaseTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterRealTimeLeaseTests(ClusterFixture nodes) : RealTimeLeaseTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterRedisLeaseTests(ClusterFixture nodes) : RedisLeaseTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterWaitingTests(ClusterFixture nodes) : WaitingTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterRedisWaitingTests(ClusterFixture nodes) : RedisWaitingTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterAdministrationTests(ClusterFixture nodes) : AdministrationTests(nodes);

// Sentinel: a primary and a replica behind three Sentinels (SentinelFailoverTests adds failover).
[Collection(SentinelCollection.Name)]
public sealed class SentinelLockTests(SentinelFixture nodes) : LockSemanticsTests(nodes);

[Collection(SentinelCollection.Name)]
public sealed class SentinelSemaphoreOfOneLockTests(SentinelFixture nodes) : SemaphoreOfOneLockSemanticsTests(nodes);

[Collection(SentinelCollection.Name)]
public sealed class SentinelRedisLockTests(SentinelFixture nodes) : RedisLockSemanticsTests(nodes);

[Collection(SentinelCollection.Name)]
public sealed class SentinelWaitingTests(SentinelFixture nodes) : WaitingTests(nodes);

[Collection(SentinelCollection.Name)]
public sealed class SentinelRedisWaitingTests(SentinelFixture nodes) : RedisWaitingTests(nodes);

// Garnet, the Redis-compatible server, inside the test process.
[Collection(GarnetCollection.Name)]
public sealed class GarnetLockTests(GarnetFixture nodes) : LockSemanticsTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetSemaphoreOfOneLockTests(GarnetFixture nodes) : SemaphoreOfOneLockSemanticsTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetRedisLockTests(GarnetFixture nodes) : RedisLockSemanticsTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetLeaseTests(GarnetFixture nodes) : LeaseTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetRealTimeLeaseTests(GarnetFixture nodes) : RealTimeLeaseTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetRedisLeaseTests(GarnetFixture nodes) : RedisLeaseTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetWaitingTests(GarnetFixture nodes) : WaitingTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetRedisWaitingTests(GarnetFixture nodes) : RedisWaitingTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetAdministrationTests(GarnetFixture nodes) : AdministrationTests(nodes);

// InMemoryLockManager: managers share one in-process lock space, as processes share a Redis.
[Collection(InMemoryCollection.Name)]
public sealed class InMemoryLockTests(InMemoryTopology nodes) : LockSemanticsTests(nodes);

[Collection(InMemoryCollection.Name)]
public sealed class InMemorySemaphoreOfOneLockTests(InMemoryTopology nodes) : SemaphoreOfOneLockSemanticsTests(nodes);

[Collection(InMemoryCollection.Name)]
public sealed class InMemoryLeaseTests(InMemoryTopology nodes) : LeaseTests(nodes);

[Collection(InMemoryCollection.Name)]
public sealed class InMemoryWaitingTests(InMemoryTopology nodes) : WaitingTests(nodes);

[Collection(InMemoryCollection.Name)]
public sealed class InMemoryAdministrationTests(InMemoryTopology nodes) : AdministrationTests(nodes);

// Reader-writer locks on every topology.
[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeReaderWriterTests(SingleNodeFixture nodes) : ReaderWriterTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesReaderWriterTests(ThreeNodesFixture nodes) : ReaderWriterTests(nodes);

[Collection(FiveNodesCollection.Name)]
public sealed class FiveNodesReaderWriterTests(FiveNodesFixture nodes) : ReaderWriterTests(nodes);

[Collection(TwoLiveOneDeadCollection.Name)]
public sealed class TwoLiveOneDeadReaderWriterTests(TwoLiveOneDeadFixture nodes) : ReaderWriterTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterReaderWriterTests(ClusterFixture nodes) : ReaderWriterTests(nodes);

[Collection(SentinelCollection.Name)]
public sealed class SentinelReaderWriterTests(SentinelFixture nodes) : ReaderWriterTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetReaderWriterTests(GarnetFixture nodes) : ReaderWriterTests(nodes);

[Collection(InMemoryCollection.Name)]
public sealed class InMemoryReaderWriterTests(InMemoryTopology nodes) : ReaderWriterTests(nodes);
// Semaphores: one deployment only (Redlock refuses them at the call, see RedlockSemaphoreTests).
[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeSemaphoreTests(SingleNodeFixture nodes) : SemaphoreTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterSemaphoreTests(ClusterFixture nodes) : SemaphoreTests(nodes);

[Collection(SentinelCollection.Name)]
public sealed class SentinelSemaphoreTests(SentinelFixture nodes) : SemaphoreTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetSemaphoreTests(GarnetFixture nodes) : SemaphoreTests(nodes);

[Collection(InMemoryCollection.Name)]
public sealed class InMemorySemaphoreTests(InMemoryTopology nodes) : SemaphoreTests(nodes);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesSemaphoreTests(ThreeNodesFixture nodes) : RedlockSemaphoreTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeRedisSemaphoreTests(SingleNodeFixture nodes) : RedisSemaphoreTests(nodes);

[Collection(ClusterCollection.Name)]
public sealed class ClusterRedisSemaphoreTests(ClusterFixture nodes) : RedisSemaphoreTests(nodes);

[Collection(GarnetCollection.Name)]
public sealed class GarnetRedisSemaphoreTests(GarnetFixture nodes) : RedisSemaphoreTests(nodes);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeSemaphoreLineOfWaitersTests(SingleNodeFixture nodes) : SemaphoreLineOfWaitersTests(nodes);

// Leader election (issue 27): one node, Redlock over three, a cluster, and in memory, the hosted
// service included. LeaderElectionRedisTests adds what only one redis-server shows (commands sent, Redis down).
[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeLeaderElectionTests(SingleNodeFixture nodes, ITestOutputHelper output) : LeaderElectionSemanticsTests(nodes, output);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesLeaderElectionTests(ThreeNodesFixture nodes, ITestOutputHelper output) : LeaderElectionSemanticsTests(nodes, output);

[Collection(ClusterCollection.Name)]
public sealed class ClusterLeaderElectionTests(ClusterFixture nodes, ITestOutputHelper output) : LeaderElectionSemanticsTests(nodes, output);

[Collection(InMemoryCollection.Name)]
public sealed class InMemoryLeaderElectionTests(InMemoryTopology nodes, ITestOutputHelper output) : LeaderElectionSemanticsTests(nodes, output);

[Collection(SingleNodeCollection.Name)]
public sealed class SingleNodeMultiResourceTests(SingleNodeFixture nodes, ITestOutputHelper output) : MultiResourceSemanticsTests(nodes, output);

[Collection(ThreeNodesCollection.Name)]
public sealed class ThreeNodesMultiResourceTests(ThreeNodesFixture nodes, ITestOutputHelper output) : MultiResourceSemanticsTests(nodes, output);

[Collection(ClusterCollection.Name)]
public sealed class ClusterMultiResourceTests(ClusterFixture nodes, ITestOutputHelper output) : MultiResourceSemanticsTests(nodes, output);

[Collection(GarnetCollection.Name)]
public sealed class GarnetMultiResourceTests(GarnetFixture nodes, ITestOutputHelper output) : MultiResourceSemanticsTests(nodes, output);

[Collection(InMemoryCollection.Name)]
public sealed class InMemoryMultiResourceTests(InMemoryTopology nodes, ITestOutputHelper output) : MultiResourceSemanticsTests(nodes, output);
