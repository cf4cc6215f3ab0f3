namespace DistLock.Cli.Tests;

/// <summary>exec --resource A --resource B: several locks held together, all or none, as one hold.</summary>
[Collection(RedisCollection.Name)]
public sealed class ExecSetTests(RedisFixture redis)
{
    private static string NewResource() => "set-" + Guid.NewGuid().ToString("N")[..8];

    private static string TempFile(string name, string suffix) => Path.Combine(Path.GetTempPath(), $"distlock-{name}{suffix}");

    /// <summary>A command that writes what exec gave it, says it runs, and waits for the test's go.</summary>
    private static string[] HoldUntil(string ready, string go) =>
        ["sh", "-c", $"echo \"$DISTLOCK_HOLDER_ID\"; echo \"$DISTLOCK_RESOURCE\"; echo \"$DISTLOCK_FENCING_TOKEN\"; touch {ready}; until [ -f {go} ]; do sleep 0.05; done"];

    [Fact]
    public async Task Exec_TwoResources_HoldsBothUnderOneHolderId_AndFreesBothAfter()
    {
        var (a, b) = (NewResource(), NewResource());
        var (ready, go) = (TempFile(a, ".ready"), TempFile(a, ".go"));
        try
        {
            using var tool = Tool.Start(["exec", "--resource", a, "--resource", b, "--", .. HoldUntil(ready, go)], redis.Endpoint);
            await Until.TrueAsync(() => Task.FromResult(File.Exists(ready)), "the command runs");

            // Seen from another manager: each member is the ordinary lock of its name, under one holder id.
            var (heldA, heldB) = (await redis.Locks.InspectAsync(a), await redis.Locks.InspectAsync(b));
            Assert.NotNull(heldA.HolderId);
            Assert.Equal(heldA.HolderId, heldB.HolderId);
            Assert.Null(await redis.Locks.TryAcquireAsync(b));
            using (var status = await Tool.RunAsync(["status", a, b], redis.Endpoint))
            {
                Assert.Equal(0, status.ExitCode);
                Assert.Contains($"held together (one holder id): {a}, {b}", status.Stdout, StringComparison.Ordinal);
            }

            await File.WriteAllTextAsync(go, "");
            Assert.Equal(0, await tool.WaitAsync());

            // The command saw the set's holder id, its names as LockHandle.Resource joins them, and one fencing token for both.
            var seen = tool.Stdout.Trim().Split('\n');
            Assert.Equal(3, seen.Length);
            Assert.Equal(heldA.HolderId, seen[0]);
            Assert.Equal(string.Join(", ", new[] { a, b }.Order(StringComparer.Ordinal)), seen[1]);
            var token = long.Parse(seen[2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(token > 0);
            Assert.Equal(token, (await redis.Locks.InspectAsync(a)).LastFencingToken);
            Assert.Equal(token, (await redis.Locks.InspectAsync(b)).LastFencingToken);
            Assert.Null((await redis.Locks.InspectAsync(a)).HolderId);
            Assert.Null((await redis.Locks.InspectAsync(b)).HolderId);
        }
        finally
        {
            File.Delete(ready);
            File.Delete(go);
        }
    }

    [Fact]
    public async Task Exec_OverlappingSets_TheSecondWaitsUntilTheFirstFinishes()
    {
        var (a, b, c) = (NewResource(), NewResource(), NewResource());
        var (log, go) = (TempFile(b, ".log"), TempFile(b, ".go"));
        try
        {
            using var first = Tool.Start(
                ["exec", "--resource", a, "--resource", b, "--", "sh", "-c", $"echo first-start >> {log}; until [ -f {go} ]; do sleep 0.05; done; echo first-end >> {log}"],
                redis.Endpoint);
            await Until.TrueAsync(() => Task.FromResult(File.Exists(log)), "the first command runs");

            // Named in the other order: a set is taken in one order whatever the command line's.
            using var second = Tool.Start(
                ["exec", "--resource", c, "--resource", b, "--", "sh", "-c", $"echo second-start >> {log}; echo second-end >> {log}"],
                redis.Endpoint);
            await Until.TrueAsync(async () => (await redis.Locks.InspectAsync(b)).Waiters >= 1, "the second waits in b's line");
            Assert.False(second.Process.HasExited);
            Assert.Equal(["first-start"], await File.ReadAllLinesAsync(log));

            await File.WriteAllTextAsync(go, "");
            Assert.Equal(0, await first.WaitAsync());
            Assert.Equal(0, await second.WaitAsync());
            Assert.Equal(["first-start", "first-end", "second-start", "second-end"], await File.ReadAllLinesAsync(log));
            foreach (var resource in new[] { a, b, c })
            {
                Assert.Null((await redis.Locks.InspectAsync(resource)).HolderId);
            }
        }
        finally
        {
            File.Delete(log);
            File.Delete(go);
        }
    }

    [Fact]
    public async Task Exec_SeveralResources_OneBusy_WithWaitZero_Exits75_AndTakesNone()
    {
        var (a, b) = (NewResource(), NewResource());
        await using var held = await redis.Locks.AcquireAsync(b);

        using var tool = await Tool.RunAsync(["exec", "--resource", a, "--resource", b, "--wait", "0", "--", "true"], redis.Endpoint);

        Assert.Equal(75, tool.ExitCode);
        Assert.Single(tool.Stderr.Trim().Split('\n'));
        Assert.Contains("are not all free; not acquired", tool.Stderr, StringComparison.Ordinal);
        Assert.Null((await redis.Locks.InspectAsync(a)).HolderId);
        Assert.Equal(held.HolderId, (await redis.Locks.InspectAsync(b)).HolderId);
    }

    [Fact]
    public async Task Exec_SeveralResources_OneMemberForceReleased_StopsTheCommand_Exits70()
    {
        var (a, b) = (NewResource(), NewResource());
        var ready = TempFile(a, ".ready");
        try
        {
            using var tool = Tool.Start(["exec", "--ttl", "3s", "--resource", a, "--resource", b, "--", "sh", "-c", $"touch {ready}; while :; do sleep 0.05; done"], redis.Endpoint);
            await Until.TrueAsync(() => Task.FromResult(File.Exists(ready)), "the command runs");

            Assert.True(await redis.Locks.ForceReleaseAsync(b));

            // Noticed at the set's next extension, within a third of its TTL: losing a member is losing the hold.
            Assert.Equal(70, await tool.WaitAsync());
            var (first, second) = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
            Assert.Contains($"distlock: lost the locks on '{first}', '{second}'; stopping sh", tool.Stderr, StringComparison.Ordinal);
            await Until.TrueAsync(async () => (await redis.Locks.InspectAsync(a)).HolderId is null, "the other member is free");
        }
        finally
        {
            File.Delete(ready);
        }
    }

    /// <summary>Regression (a review, 2026-12-06): a permit force-released read "lost the lock on 'x'".</summary>
    [Fact]
    public async Task Exec_Permit_ForceReleased_SaysThePermitWasLost_Exits70()
    {
        var pool = NewResource();
        var ready = TempFile(pool, ".ready");
        try
        {
            using var tool = Tool.Start(["exec", "--ttl", "3s", "--resource", pool, "--permits", "2", "--", "sh", "-c", $"touch {ready}; while :; do sleep 0.05; done"], redis.Endpoint);
            await Until.TrueAsync(() => Task.FromResult(File.Exists(ready)), "the command runs");

            Assert.Equal(1, await redis.Locks.ForceReleaseSemaphoreAsync(pool));

            Assert.Equal(70, await tool.WaitAsync());
            Assert.Contains($"distlock: lost the permit of semaphore '{pool}'; stopping sh", tool.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(ready);
        }
    }

    [Fact]
    public async Task Exec_SameResourceTwice_IsOneLock_AndGoesWithRead()
    {
        var resource = NewResource();

        using var tool = await Tool.RunAsync(["exec", "--resource", resource, "--resource", resource, "--read", "--", "sh", "-c", "echo \"$DISTLOCK_RESOURCE\""], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
        Assert.Equal(resource, tool.Stdout.Trim());
    }

    [Theory]
    [InlineData("do not go with --read", "exec", "--resource", "set-x1", "--resource", "set-x2", "--read", "--", "true")]
    [InlineData("do not go with --permits", "exec", "--resource", "set-x1", "--resource", "set-x2", "--permits", "2", "--", "true")]
    [InlineData("--resource and --leader do not go together", "exec", "--resource", "set-x1", "--resource", "set-x2", "--leader", "set-x3", "--", "true")]
    [InlineData("each --resource needs a NAME after it", "exec", "--resource", "set-x1", "--resource", "--", "true")]
    [InlineData("each --resource needs a NAME after it, not the flag --read", "exec", "--resource", "set-x1", "--resource", "--read", "--", "true")]
    [InlineData("--watch follows one lock", "status", "set-x1", "set-x2", "--watch")]
    [InlineData("--semaphore shows one semaphore", "status", "set-x1", "set-x2", "--semaphore")]
    [InlineData("--leader shows one election", "status", "set-x1", "set-x2", "--leader")]
    public async Task SeveralResources_WithAFlagForOne_IsAUsageError_NothingLocked(string expected, params string[] arguments)
    {
        using var tool = await Tool.RunAsync(arguments, redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Single(tool.Stderr.Trim().Split('\n'));
        Assert.StartsWith("distlock: ", tool.Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, tool.Stderr, StringComparison.Ordinal);
        foreach (var resource in new[] { "set-x1", "set-x2", "set-x3" })
        {
            Assert.Null((await redis.Locks.InspectAsync(resource)).HolderId);
        }
    }

    [Fact]
    public async Task Exec_MoreResourcesThanASetTakes_IsAUsageError()
    {
        var names = Enumerable.Range(0, LockRequest.MaxResources + 1).SelectMany(i => new[] { "--resource", $"set-many-{i}" });

        using var tool = await Tool.RunAsync(["exec", .. names, "--", "true"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Contains($"--resource: At most {LockRequest.MaxResources} resources can be taken together", tool.Stderr, StringComparison.Ordinal);
    }
}
