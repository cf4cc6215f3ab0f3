using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;

namespace DistLock.IntegrationTests;

/// <summary>
/// An application user allowed only what DistLock needs (the ACL line in docs/deployment.md), and
/// what a user missing a right gets: a LockBackendException naming the cause, never "busy".
/// </summary>
public sealed class AclTests
{
    /// <summary>The rights of the documented ACL rule, after the user name.</summary>
    public const string DistLockUserRights =
        "on >lock-secret ~lock:* &lock:* &__Booksleeve_MasterChanged +@connection +info " +
        "+evalsha +eval +subscribe +unsubscribe +get +set +del +exists +incr +time +pttl +pexpire " +
        "+zadd +zrem +zrange +zrevrange +zrangebyscore +zremrangebyscore +zscore +zcard +publish +scan";

    /// <summary>The documented ACL rule, with a test password.</summary>
    public const string DistLockUser = "distlock " + DistLockUserRights;

    [Fact]
    public async Task UserWithTheDocumentedRights_AcquiresWaitsExtendsAndReleases()
    {
        await using var server = await RedisServer.StartAsync(["--requirepass", "admin-secret", "--user", .. DistLockUser.Split(' ')]);
        var config = server.Endpoint + ",user=distlock,password=lock-secret";
        await using (var asUser = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(config))
        {
            // The rule is in force: a key outside lock:* is refused to this user.
            await Assert.ThrowsAsync<StackExchange.Redis.RedisServerException>(() => asUser.GetDatabase().StringSetAsync("other:key", "x"));
        }

        // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
        // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out.
        var patient = new RedisLockManagerOptions { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { RetryDelay = TimeSpan.FromSeconds(10) } };
        await using var holder = await RedisLockManager.ConnectAsync(config, patient);
        await using var waiter = await RedisLockManager.ConnectAsync(config, patient);

        var held = await holder.AcquireAsync("acl");
        var heldToken = await held.GetFencingTokenAsync();
        var waiting = waiter.AcquireAsync("acl", TimeSpan.FromSeconds(20));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await holder.InspectAsync("acl")).Waiters >= 1), "the waiter never joined the line");
        Assert.True(await held.ExtendAsync());
        await held.ReleaseAsync();
        await using var next = await waiting;

        Assert.True(next.AcquireDelay < TimeSpan.FromSeconds(8), $"woken after {next.AcquireDelay}"); // before the 10 s retry
        Assert.True(await next.GetFencingTokenAsync() > heldToken);
        Assert.Equal(next.HolderId, (await waiter.InspectAsync("acl")).HolderId);
        // Regression: the documented rule had no +scan, and ListAsync (distlock list) failed with NOPERM.
        var listed = new List<LockInfo>();
        await foreach (var info in waiter.ListAsync("ac*"))
        {
            listed.Add(info);
        }

        Assert.Equal("acl", Assert.Single(listed).Resource);
        await next.ReleaseAsync();

        // Read locks and semaphores need nothing more than the rule gives.
        var reader = await holder.AcquireReadAsync("acl");
        var writing = waiter.AcquireAsync("acl", TimeSpan.FromSeconds(5));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await holder.InspectAsync("acl")).Waiters >= 1), "the writer never joined the line");
        Assert.True(await reader.ExtendAsync());
        Assert.Single((await holder.InspectAsync("acl")).Readers);
        await reader.ReleaseAsync();
        await (await writing).ReleaseAsync();
        await using var permit = await holder.AcquireSemaphoreAsync("acl", 2);
        Assert.True(await permit.ExtendAsync());
        Assert.Single((await holder.InspectSemaphoreAsync("acl")).Holders);
    }

    [Fact]
    public async Task UserWithoutScripts_GetsLockBackendExceptionNamingNoPerm_NotNull()
    {
        await using var server = await RedisServer.StartAsync("--user", "noscripts", "on", ">pw", "~lock:*", "+@connection", "+info", "+get", "+set");
        await using var locks = await RedisLockManager.ConnectAsync(server.Endpoint + ",user=noscripts,password=pw");

        // A try-once is a plain SET NX, which this user may send; its release is a script.
        var handle = await locks.TryAcquireAsync("acl");
        Assert.NotNull(handle);
        var error = await Assert.ThrowsAsync<LockBackendException>(() => handle.ReleaseAsync());

        Assert.Contains("NOPERM", error.Message + error.InnerException?.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task WrongPasswordForTheUser_ConnectThrowsLockBackendExceptionNamingAuthentication()
    {
        // The default user has a password too, as in production: with it open, a wrong password
        // for this user did not make ConnectAsync fail.
        await using var server = await RedisServer.StartAsync(["--requirepass", "admin-secret", "--user", .. DistLockUser.Split(' ')]);

        // Many tries, each with a long connect timeout: the client records a refusal sometimes
        // before ConnectAsync returns and sometimes after (then never in the connect log), and on a
        // busy machine sometimes before it starts waiting for it (then it waits the whole connect
        // timeout: about one connect in 300 beside a CPU hog). Either way the error must name it,
        // and at once, not when the connect timeout has passed.
        var messages = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<LockBackendException>(() =>
                RedisLockManager.ConnectAsync(server.Endpoint + ",user=distlock,password=wrong,connectTimeout=60000"));

            Assert.Contains("auth", error.Message + error.InnerException?.Message, StringComparison.OrdinalIgnoreCase);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the refusal took {clock.Elapsed} to report: {error.Message}");
            messages.Add(error.Message);
        }

        // The same refusal is said in the same words, whichever way the race went.
        Assert.True(messages.Count == 1, string.Join(Environment.NewLine, messages));
    }
}
