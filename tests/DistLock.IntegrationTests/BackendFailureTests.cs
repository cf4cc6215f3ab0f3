using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;

namespace DistLock.IntegrationTests;

/// <summary>An outage is a <see cref="LockBackendException"/> within the node timeout, never contention.</summary>
public sealed class BackendFailureTests
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMilliseconds(400);
    // The client's own timeouts are set far out, so only NodeTimeout can end a call on time: a bound
    // of seconds then tells "ended at the node timeout" from "ended at the client's", on a busy machine
    // too (a run with clusters starting beside it once took 3.3 s where 0.4 s was asked).
    private const string OnlyNodeTimeout = ",asyncTimeout=60000,syncTimeout=60000";
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(8);

    private static RedisLockManagerOptions Options() => new() { NodeTimeout = NodeTimeout, Defaults = { RetryDelay = TimeSpan.FromMilliseconds(20) } };

    [Fact]
    public async Task TryAcquireAsync_RedisKilled_ThrowsLockBackendExceptionWithinNodeTimeout()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        server.Kill();

        var stopwatch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockBackendException>(() => manager.TryAcquireAsync("down"));

        Assert.True(stopwatch.Elapsed < NodeTimeout + Slack, $"took {stopwatch.Elapsed}");
        Assert.NotNull(ex.InnerException);
        Assert.Contains(server.Endpoint, ex.Message, StringComparison.Ordinal);

        // The client's state dump stays in the inner exception.
        Assert.DoesNotContain("IOCP", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(", mc: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryAcquireAsync_WhileDisconnected_SaysTheCauseWithoutTheClientsStateDump()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        server.Kill();

        // Once the client knows the connection is gone, it refuses commands at once, with its state
        // dump appended ("..., mc: 1/1/0, ..., IOCP: (...)"): that belongs in the inner exception.
        LockBackendException? refused = null;
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
        {
            refused = await Assert.ThrowsAsync<LockBackendException>(() => manager.TryAcquireAsync("disconnected"));
            return refused.InnerException?.Message.Contains("No connection is active", StringComparison.Ordinal) == true;
        }));

        Assert.Contains("No connection is active", refused!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("IOCP", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(", mc: ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("IOCP", refused.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_ServerAcceptsButNeverAnswers_FailsWithinTheConnectTimeout_InOneReadableLine()
    {
        await using var server = await RedisServer.StartAsync();
        await server.PauseAsync();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<LockBackendException>(() => RedisLockManager.ConnectAsync(server.Endpoint + ",connectTimeout=3000"));

            // One connect attempt (the client's default is three: 9 s here, 15 s by default), and
            // about a second to name the failure; the rest is slack for a loaded machine.
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(7), $"took {stopwatch.Elapsed}");
            Assert.Contains("no answer within the connect timeout (3000 ms)", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("IOCP", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            server.Resume();
        }
    }

    [Theory]
    [InlineData("paused")]
    [InlineData("killed")]
    public async Task ListAsync_RedisDown_ThrowsLockBackendExceptionWithinNodeTimeout(string fault)
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        await using (await BeforeTheFaultAsync(() => manager.AcquireAsync("listed")))
        {
            Assert.Single(await BeforeTheFaultAsync(() => ListAllAsync(manager)));
        }

        if (fault == "paused")
        {
            await server.PauseAsync();
        }
        else
        {
            server.Kill();
        }

        try
        {
            var stopwatch = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<LockBackendException>(() => ListAllAsync(manager));

            Assert.True(stopwatch.Elapsed < NodeTimeout + Slack, $"took {stopwatch.Elapsed}");
            Assert.NotNull(ex.InnerException);
        }
        finally
        {
            server.Resume();
        }
    }

    [Fact]
    public async Task AcquireAsync_RedisKilledWhileWaitingForever_ThrowsInsteadOfHanging()
    {
        await using var server = await RedisServer.StartAsync();
        await using var holder = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        await using var waiter = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        await using var held = await BeforeTheFaultAsync(() => holder.AcquireAsync("contended"));

        var waiting = waiter.AcquireAsync("contended", Timeout.InfiniteTimeSpan);
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await BeforeTheFaultAsync(() => holder.InspectAsync("contended"))).Waiters >= 1), "the waiter never joined the line");
        server.Kill();

        await Assert.ThrowsAsync<LockBackendException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task TryAcquireAsync_RedisPaused_FailsWithinNodeTimeoutAndLeavesNoKeyOnceItWakes()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        await server.PauseAsync();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await Assert.ThrowsAsync<LockBackendException>(() => manager.TryAcquireAsync("paused"));
            Assert.True(stopwatch.Elapsed < NodeTimeout + Slack, $"took {stopwatch.Elapsed}");
        }
        finally
        {
            server.Resume();
        }

        // The acquire queued in the paused server runs when it wakes, and takes the lock for nobody;
        // it must be given back long before its 30 s TTL.
        LockHandle? handle = null;
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(5), async () => (handle = await manager.TryAcquireAsync("paused")) is not null));
        await handle!.DisposeAsync();
    }

    [Fact]
    public async Task AcquireAsync_RedisAnsweringSlowly_ThrowsWithinNodeTimeout()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        await using var admin = await server.ConnectAsync(",allowAdmin=true");
        // Redis holds every client's commands for 1.5 s from this answer on, so the acquire is sent
        // into the pause; with DEBUG SLEEP sent unawaited, a 50 ms sleep had to guess when it began.
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "1500", "ALL");

        var stopwatch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockBackendException>(() => manager.AcquireAsync("slow", TimeSpan.FromSeconds(30)));

        Assert.True(stopwatch.Elapsed < NodeTimeout + Slack, $"took {stopwatch.Elapsed}");
        Assert.IsType<TimeoutException>(ex.InnerException);
    }

    [Fact]
    public async Task ExtendAndRelease_RedisKilled_ThrowLockBackendException_ThenReleaseWorksAfterRestart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint, Options());
        var handle = await manager.AcquireAsync("restart");
        server.Kill();

        await Assert.ThrowsAsync<LockBackendException>(() => handle.ExtendAsync(TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAsync<LockBackendException>(() => handle.ReleaseAsync());

        await server.RestartAsync();
        Assert.True(await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(10), async () =>
        {
            try
            {
                // The restarted server is empty: the lock is gone, so release says false.
                return !await handle.ReleaseAsync();
            }
            catch (LockBackendException)
            {
                return false; // still reconnecting
            }
        }));
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ThrowsLockBackendException()
    {
        await using var server = await RedisServer.StartAsync();
        var endpoint = server.Endpoint;
        server.Kill();

        var stopwatch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockBackendException>(() => RedisLockManager.ConnectAsync(endpoint + ",connectTimeout=1000"));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
        Assert.Contains(endpoint, ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task HostName_IsNamedAsTyped_NotAsUnspecifiedSlashHost()
    {
        // Regression: "Could not connect to Redis at Unspecified/localhost:PORT", and the same in
        // every later error, log line and health check description.
        await using var server = await RedisServer.StartAsync();
        var port = server.Endpoint[(server.Endpoint.LastIndexOf(':') + 1)..];
        await using var locks = await RedisLockManager.ConnectAsync($"localhost:{port}");
        server.Kill();

        var connect = await Assert.ThrowsAsync<LockBackendException>(() => RedisLockManager.ConnectAsync($"localhost:{port},connectTimeout=1000"));
        var call = await Assert.ThrowsAsync<LockBackendException>(() => locks.TryAcquireAsync("unspecified"));

        Assert.Contains($"Redis at localhost:{port} ", connect.Message, StringComparison.Ordinal);
        Assert.Contains($"Redis at localhost:{port} ", call.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unspecified/", connect.Message + call.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_WrongPassword_ThrowsLockBackendExceptionNamingTheCause()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "right-password");

        var ex = await Assert.ThrowsAsync<LockBackendException>(
            () => RedisLockManager.ConnectAsync(server.Endpoint + ",password=wrong-password,connectTimeout=2000"));

        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task ConnectAsync_WithPassword_Works()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "right-password");
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + ",password=right-password");

        await using var handle = await manager.TryAcquireAsync("with-password");

        Assert.NotNull(handle);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("127.0.0.1:notaport")]
    [InlineData("127.0.0.1:6379,nosuchoption=1")]
    public async Task ConnectAsync_BadConfiguration_ThrowsArgumentException(string configuration)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => RedisLockManager.ConnectAsync(configuration));
    }

    [Fact]
    public async Task TryAcquireAsync_ScriptCacheFlushed_FallsBackToEval()
    {
        await using var server = await RedisServer.StartAsync();
        await using var manager = await RedisLockManager.ConnectAsync(server.Endpoint + OnlyNodeTimeout, Options());
        await BeforeTheFaultAsync(async () => await (await manager.AcquireAsync("flush")).ReleaseAsync());
        await using var admin = await server.ConnectAsync(",allowAdmin=true");
        await admin.GetServer(server.Endpoint).ScriptFlushAsync();

        await using var handle = await manager.TryAcquireAsync("flush");

        Assert.NotNull(handle);
        Assert.True(await handle.ReleaseAsync());
    }

    [Fact]
    public async Task RedisLockManager_FromCallersMultiplexer_DoesNotDisposeIt()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync();
        var manager = new RedisLockManager(connection);
        await (await manager.AcquireAsync("borrowed")).ReleaseAsync();

        await manager.DisposeAsync();

        Assert.True(connection.IsConnected);
        Assert.True(await connection.GetDatabase().PingAsync() >= TimeSpan.Zero);
    }

    /// <summary>
    /// A step before the fault: the 400 ms node timeout is what these tests time, and a healthy
    /// server on a machine busy starting others (a fresh process, its thread pool still growing)
    /// sometimes misses it there (1 run in 4 of this class beside two others). Such a miss is retried.
    /// </summary>
    private static async Task<T> BeforeTheFaultAsync<T>(Func<Task<T>> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step();
            }
            catch (LockBackendException ex) when (ex.InnerException is TimeoutException && attempt < 20)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<List<LockInfo>> ListAllAsync(RedisLockManager manager)
    {
        var all = new List<LockInfo>();
        await foreach (var info in manager.ListAsync("*"))
        {
            all.Add(info);
        }

        return all;
    }
}
