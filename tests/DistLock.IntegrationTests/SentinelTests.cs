using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>Replication and failover behind Sentinel: WAIT on acquire, and what a failover does to locks.</summary>
[Collection(SentinelCollection.Name)]
public sealed class SentinelFailoverTests(SentinelFixture nodes, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly RedisLockManagerOptions Replicated = new() { WaitForReplicas = 1, ReplicaTimeout = TimeSpan.FromMilliseconds(500) };

    private static string NewResource() => "sentinel-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task WaitForReplicas_EveryLockIsOnTheReplicaWhenAcquireReturns()
    {
        await using var manager = await nodes.ConnectAsync(Replicated);
        await using var replica = await (await nodes.Group.ReplicaAsync()).ConnectAsync();

        for (var i = 0; i < 20; i++)
        {
            await using var handle = await manager.AcquireAsync(NewResource());
            Assert.Equal(handle.HolderId, (string?)await replica.GetDatabase().StringGetAsync(handle.Key));
        }
    }

    [Fact]
    public async Task WaitForReplicas_ReplicaNotAnswering_AcquireFailsClosed_AndLeavesNoKey()
    {
        await using var manager = await nodes.ConnectAsync(new RedisLockManagerOptions { WaitForReplicas = 1, ReplicaTimeout = TimeSpan.FromMilliseconds(150) });
        var replica = await nodes.Group.ReplicaAsync();
        var resource = NewResource();

        await replica.PauseAsync();
        LockBackendException error;
        try
        {
            error = await Assert.ThrowsAsync<LockBackendException>(() => manager.TryAcquireAsync(resource));
        }
        finally
        {
            replica.Resume();
        }

        Assert.Contains("WaitForReplicas", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await nodes.CountHoldersAsync("lock:{" + resource + "}"));
        await ReplicaAcknowledgesAsync();
        await using var later = await manager.AcquireAsync(resource, TimeSpan.FromSeconds(10));
        Assert.NotNull(later);
    }

    [Fact]
    public async Task WaitForReplicas_ExtensionTheReplicaDidNotConfirm_DoesNotCount()
    {
        var options = new RedisLockManagerOptions { WaitForReplicas = 1, ReplicaTimeout = TimeSpan.FromMilliseconds(150), Defaults = { AutoExtend = false } };
        await using var manager = await nodes.ConnectAsync(options);
        await using var replica = await (await nodes.Group.ReplicaAsync()).ConnectAsync();
        await using var handle = await manager.AcquireAsync(new LockRequest(NewResource()) { Ttl = TimeSpan.FromSeconds(10) });
        var validUntil = handle.ValidUntil;

        var server = await nodes.Group.ReplicaAsync();
        await server.PauseAsync();
        LockBackendException error;
        try
        {
            error = await Assert.ThrowsAsync<LockBackendException>(() => handle.ExtendAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            server.Resume();
        }

        Assert.Contains("WaitForReplicas", error.Message, StringComparison.Ordinal);
        Assert.Equal(LockState.Held, handle.State);
        // The holder does not count on the unconfirmed TTL (ValidUntil is read off the clock: allow jitter).
        Assert.InRange(handle.ValidUntil, validUntil - TimeSpan.FromSeconds(1), validUntil + TimeSpan.FromSeconds(1));
        await ReplicaAcknowledgesAsync();

        Assert.True(await handle.ExtendAsync(TimeSpan.FromSeconds(60)));
        Assert.True(handle.ValidUntil > validUntil + TimeSpan.FromSeconds(40));
        var replicaTtl = await replica.GetDatabase().KeyTimeToLiveAsync(handle.Key);
        Assert.True(replicaTtl > TimeSpan.FromSeconds(30), $"the replica has {replicaTtl} left once the extension returned");
    }

    [Fact]
    public async Task Failover_NewLocksWorkWithinSeconds_AndAReplicatedLockSurvives()
    {
        var options = new RedisLockManagerOptions { WaitForReplicas = 1, ReplicaTimeout = TimeSpan.FromMilliseconds(500), Defaults = { Ttl = TimeSpan.FromSeconds(60), AutoExtend = false } };
        await using var owner = await nodes.ConnectAsync(options);
        await using var other = await nodes.ConnectAsync(options);
        var resource = NewResource();
        var held = await owner.AcquireAsync(resource);

        await nodes.Group.ReplicaAsync(); // in sync, so that the failover can start at once
        var clock = Stopwatch.StartNew();
        var promoted = await nodes.Group.FailoverAsync();
        var refusedByWait = 0;

        // StackExchange.Redis moves once the old primary is demoted (about 15 s here); until then the
        // old primary, cut off from its replica, fails WAIT, so no lock is granted where it would be lost.
        var fresh = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(45), async () =>
        {
            try
            {
                return await other.TryAcquireAsync(NewResource());
            }
            catch (LockBackendException ex) when (ex.Message.Contains("WaitForReplicas", StringComparison.Ordinal))
            {
                refusedByWait++;
                throw;
            }
        });
        output.WriteLine($"A new lock {clock.ElapsedMilliseconds} ms after SENTINEL FAILOVER; {refusedByWait} attempts refused by WAIT before");

        await using (fresh)
        {
            await using var direct = await promoted.ConnectAsync();
            Assert.Equal(fresh.HolderId, (string?)await direct.GetDatabase().StringGetAsync(fresh.Key));

            // Written with WAIT before the failover, the lock is on the new primary: still held.
            Assert.Equal(held.HolderId, (string?)await direct.GetDatabase().StringGetAsync(held.Key));
            Assert.Null(await other.TryAcquireAsync(resource));

            // The owner has sent nothing since the failover, so its connection may still point at
            // the old primary (now a replica), where a release fails with READONLY and the handle
            // is lost. Wait until it writes to the new primary, as `other` did above.
            await using (await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(45), () => owner.TryAcquireAsync(NewResource())))
            {
            }

            Assert.True(await held.ReleaseAsync());
        }
    }

    /// <summary>
    /// Waits until the resumed replica acknowledges a write within the tests' 150 ms again (WAIT on
    /// the primary): on a loaded machine it can take longer to catch up after SIGCONT.
    /// </summary>
    private async Task ReplicaAcknowledgesAsync()
    {
        await using var primary = await (await nodes.Group.PrimaryAsync()).ConnectAsync();
        var db = primary.GetDatabase();
        Assert.True(
            await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
            {
                // WAIT counts the replicas that have this connection's last write.
                await db.StringSetAsync("replica-probe", "1", TimeSpan.FromSeconds(10));
                return (long)await db.ExecuteAsync("WAIT", 1, 150) >= 1;
            }),
            "the replica never acknowledged a write again");
    }
}
