using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;

namespace DistLock.IntegrationTests;

/// <summary>
/// A release that gets no answer may still have deleted the key, so its handle must never read
/// Held again: it is lost (and stays releasable). Regression tests for a handle that was put back
/// to Held while a second manager held the same lock.
/// </summary>
public sealed class ReleaseOutcomeTests
{
    // Short where a test waits for the node timeout on purpose; generous elsewhere, so that a
    // loaded 2-core machine cannot turn an answer the test needs into a timeout.
    private static readonly TimeSpan ShortNodeTimeout = TimeSpan.FromMilliseconds(500);

    private static RedisLockManagerOptions Options(TimeSpan? nodeTimeout = null) =>
        new() { NodeTimeout = nodeTimeout ?? TimeSpan.FromSeconds(5), Defaults = { Ttl = TimeSpan.FromSeconds(10) } };

    [Fact]
    public async Task ReleaseAsync_CancelledRightAfterTheCall_NeverLeavesTheHandleHeld()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint, Options());
        var cancelledInFlight = 0;
        for (var i = 0; i < 20; i++)
        {
            var handle = await manager.AcquireAsync("cancelled-release");
            using var cancel = new CancellationTokenSource();
            var release = handle.ReleaseAsync(cancel.Token);
            await cancel.CancelAsync();
            try
            {
                await release;
                Assert.Equal(LockState.Released, handle.State);
            }
            catch (OperationCanceledException)
            {
                cancelledInFlight++;
                Assert.Equal(LockState.Lost, handle.State);
                Assert.True(handle.LostToken.IsCancellationRequested);

                // Still releasable: the retry's compare-and-delete answers, whatever the first did.
                await handle.ReleaseAsync();
                Assert.Equal(LockState.Lost, handle.State);
                Assert.False(await handle.ReleaseAsync());
            }
        }

        Assert.True(cancelledInFlight > 0, "no release was cancelled in flight, so nothing was tested");
    }

    [Fact]
    public async Task ReleaseAsync_CancelledWhileRedisIsPaused_HandleIsLost_WhileTheReleaseLandsAndAnotherManagerTakesTheLock()
    {
        await using var server = await RedisServer.StartAsync();
        await using var owner = await RedisLockManager.ConnectAsync(server.Endpoint, Options());
        await using var other = await RedisLockManager.ConnectAsync(server.Endpoint, Options());
        var handle = await owner.AcquireAsync("paused-cancel");

        await server.PauseAsync();
        try
        {
            using var cancel = new CancellationTokenSource();
            var release = handle.ReleaseAsync(cancel.Token);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => release);

            Assert.Equal(LockState.Lost, handle.State);
            Assert.True(handle.LostToken.IsCancellationRequested);
        }
        finally
        {
            server.Resume();
        }

        // The release was sent: it runs when the server resumes, and the lock is free for others.
        await using var next = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(5), () => other.TryAcquireAsync("paused-cancel"));
        Assert.Equal(LockState.Held, next.State);
        Assert.Equal(LockState.Lost, handle.State);
        Assert.False(await handle.ReleaseAsync());
        Assert.Equal(LockState.Held, next.State);
    }

    [Fact]
    public async Task ReleaseAsync_RedisPausedPastTheNodeTimeout_ThrowsLockBackendException_AndTheHandleIsLostNotHeld()
    {
        await using var server = await RedisServer.StartAsync();
        await using var owner = await RedisLockManager.ConnectAsync(server.Endpoint, Options(ShortNodeTimeout));
        await using var other = await RedisLockManager.ConnectAsync(server.Endpoint, Options());
        var handle = await owner.AcquireAsync("paused-release");

        await server.PauseAsync();
        try
        {
            await Assert.ThrowsAsync<LockBackendException>(() => handle.ReleaseAsync());
            Assert.Equal(LockState.Lost, handle.State);
            Assert.True(handle.LostToken.IsCancellationRequested);
        }
        finally
        {
            server.Resume();
        }

        await using var next = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(5), () => other.TryAcquireAsync("paused-release"));
        Assert.Equal(LockState.Lost, handle.State);
    }

    [Fact]
    public async Task ReleaseAsync_Redlock_MajorityPaused_HandleIsLostNotHeld()
    {
        var servers = await RedisServer.StartManyAsync(3);
        try
        {
            var endpoints = servers.Select(s => s.Endpoint).ToList();
            await using var owner = await RedisLockManager.ConnectAsync(endpoints, Options(ShortNodeTimeout));
            await using var other = await RedisLockManager.ConnectAsync(endpoints, Options());
            var handle = await owner.AcquireAsync("redlock-paused-release");

            await servers[0].PauseAsync();
            await servers[1].PauseAsync();
            try
            {
                await Assert.ThrowsAsync<LockBackendException>(() => handle.ReleaseAsync());
                Assert.Equal(LockState.Lost, handle.State);
                Assert.True(handle.LostToken.IsCancellationRequested);
            }
            finally
            {
                servers[0].Resume();
                servers[1].Resume();
            }

            await using var next = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(5), () => other.TryAcquireAsync("redlock-paused-release"));
            Assert.Equal(LockState.Lost, handle.State);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ReleaseAsync_ScriptFailsAfterItsDelete_HandleIsLostNotHeld()
    {
        // A user without +publish: release.lua fails when it wakes the waiter. A script that fails
        // part way is not rolled back, so a release that throws may have deleted the key.
        var rights = AclTests.DistLockUserRights.Replace(" +publish", string.Empty, StringComparison.Ordinal);
        await using var server = await RedisServer.StartAsync(["--requirepass", "admin-secret", "--user", "nopublish", .. rights.Split(' ')]);
        var asUser = server.Endpoint + ",user=nopublish,password=lock-secret";
        var asAdmin = server.Endpoint + ",password=admin-secret";
        await using var holder = await RedisLockManager.ConnectAsync(asUser, Options());
        await using var waiter = await RedisLockManager.ConnectAsync(asAdmin, Options());
        await using var admin = await server.ConnectAsync();
        var handle = await holder.AcquireAsync("acl-release");

        using var stopWaiting = new CancellationTokenSource();
        var waiting = waiter.AcquireAsync("acl-release", TimeSpan.FromSeconds(30), stopWaiting.Token);
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
            await admin.GetDatabase().SortedSetLengthAsync("lock:{acl-release}:waiters") > 0), "the waiter never got in line");

        await Assert.ThrowsAsync<LockBackendException>(() => handle.ReleaseAsync());

        Assert.Equal(LockState.Lost, handle.State);
        Assert.True(handle.LostToken.IsCancellationRequested);

        await stopWaiting.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
