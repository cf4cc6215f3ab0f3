using DistLock.RedisRig;
using System.Text.Json;

namespace DistLock.Cli.Tests;

/// <summary><c>exec --permits</c> and <c>status --semaphore</c>, run as the built tool.</summary>
[Collection(RedisCollection.Name)]
public sealed class SemaphoreCliTests(RedisFixture redis)
{
    private static string NewResource() => "cli-sem-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task ExecPermits_ThreeCommandsOnTwoPermits_AtMostTwoRunAtOnce()
    {
        var resource = NewResource();
        var dir = Directory.CreateTempSubdirectory(resource).FullName;
        var log = Path.Combine(dir, "log");
        // Each command marks itself running, waits (up to 3 s) until it sees a second one, logs how
        // many run, and unmarks itself: the log's highest count is the most that ran at once.
        var script = $"touch {dir}/$$.run; i=0; while [ $(ls {dir} | grep -c run) -lt 2 ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i+1)); done; " +
            $"ls {dir} | grep -c run >> {log}; sleep 0.2; rm {dir}/$$.run";
        try
        {
            var tools = Enumerable.Range(0, 3).Select(_ => Tool.Start(["exec", "--resource", resource, "--permits", "2", "--", "sh", "-c", script], redis.Endpoint)).ToList();
            foreach (var tool in tools)
            {
                Assert.Equal(0, await tool.WaitAsync());
                tool.Dispose();
            }

            var counts = (await File.ReadAllLinesAsync(log)).Select(int.Parse).ToList();
            Assert.Equal(3, counts.Count);
            Assert.Equal(2, counts.Max());
            Assert.Empty((await redis.Locks.InspectSemaphoreAsync(resource)).Holders);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ExecPermits_DisagreesWithTheHolders_IsAUsageErrorNamingTheLimit()
    {
        var resource = NewResource();
        await using var held = await redis.Locks.AcquireSemaphoreAsync(resource, 3);

        using var tool = await Tool.RunAsync(["exec", "--resource", resource, "--permits", "2", "--wait", "0", "--", "true"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        // Regression: the library's words, "The semaphore 'lock:{...}:semaphore' is held with maxCount 3, and this call asked for maxCount 2".
        Assert.StartsWith($"distlock: --permits: semaphore '{resource}' is held with --permits 3, not 2;", tool.Stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("maxCount", tool.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusSemaphore_ShowsHoldersAndFreePermits_InTheLibrarysNames()
    {
        var resource = NewResource();
        await using var held = await redis.Locks.AcquireSemaphoreAsync(resource, 3);
        var token = await held.GetFencingTokenAsync();

        using var table = await Tool.RunAsync(["status", "--semaphore", resource], redis.Endpoint);
        using var json = await Tool.RunAsync(["status", "--semaphore", resource, "--json"], redis.Endpoint);

        Assert.Equal(0, table.ExitCode);
        Assert.Contains(held.HolderId, table.Stdout, StringComparison.Ordinal);
        Assert.Contains("free permits", table.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, json.ExitCode);
        using var document = JsonDocument.Parse(json.Stdout);
        var semaphore = document.RootElement;
        Assert.Equal(JsonFields.Semaphore, semaphore.EnumerateObject().Select(p => p.Name));
        Assert.Equal(resource, semaphore.GetProperty("resource").GetString());
        Assert.Equal(3, semaphore.GetProperty("maxCount").GetInt32());
        Assert.Equal(2, semaphore.GetProperty("freePermits").GetInt32());
        Assert.Equal(0, semaphore.GetProperty("handingOver").GetInt32());
        Assert.Equal(token, semaphore.GetProperty("lastFencingToken").GetInt64());
        var holder = Assert.Single(semaphore.GetProperty("holders").EnumerateArray());
        Assert.Equal(JsonFields.Holder, holder.EnumerateObject().Select(p => p.Name));
        Assert.Equal(held.HolderId, holder.GetProperty("holderId").GetString());
        Assert.InRange(holder.GetProperty("remainingTtlMs").GetInt64(), 1, 30_000);
    }

    [Fact]
    public async Task StatusSemaphoreWatch_OffATerminal_PrintsALinePerChange_AndStopsOnSigTerm()
    {
        var resource = NewResource();
        using var tool = Tool.Start(["status", "--semaphore", resource, "--watch"], redis.Endpoint);
        await Until.TrueAsync(() => tool.Stdout.Contains("holders=0/- free=all", StringComparison.Ordinal));

        await using (var held = await redis.Locks.AcquireSemaphoreAsync(resource, 3))
        {
            await Until.TrueAsync(() => tool.Stdout.Contains("holders=1/3 free=2", StringComparison.Ordinal));
        }

        await Until.TrueAsync(() => tool.Stdout.Split('\n').Count(l => l.Contains("holders=0/- free=all", StringComparison.Ordinal)) == 2);
        Signals.Send(tool.Process.Id, 15);
        Assert.Equal(0, await tool.WaitAsync(20));
        Assert.DoesNotContain('\u001b', tool.Stdout);
    }

    [Fact]
    public async Task StatusSemaphoreWatch_OnRedlock_IsAUsageError()
    {
        await using var second = await RedisServer.StartAsync();

        using var tool = await Tool.RunAsync(["status", "--semaphore", NewResource(), "--watch", "--redis", redis.Endpoint, "--redis", second.Endpoint]);

        Assert.Equal(64, tool.ExitCode);
        Assert.Contains("--semaphore", tool.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--holder-id", null)]
    // rc.1's name for the flag: scripts that use it keep working, told on stderr what replaces it.
    [InlineData("--holder", "distlock: warning: --holder is deprecated and will be removed in a later version; use --holder-id")]
    public async Task ReleaseSemaphore_OneHolder_FreesOnlyItsPermit_AfterAYes(string flag, string? warning)
    {
        var resource = NewResource();
        var stuck = await redis.Locks.AcquireSemaphoreAsync(resource, 2);
        await using var kept = await redis.Locks.AcquireSemaphoreAsync(resource, 2);

        using var declined = await Tool.RunAsync(["release", "--semaphore", resource, flag, stuck.HolderId, "--force"], redis.Endpoint, stdin: "n\n");
        using var confirmed = await Tool.RunAsync(["release", "--semaphore", resource, flag, stuck.HolderId, "--force"], redis.Endpoint, stdin: "y\n");

        Assert.Equal(1, declined.ExitCode);
        Assert.Equal(0, confirmed.ExitCode);
        Assert.Contains($"freed 1 permit(s) of '{resource}'", confirmed.Stdout, StringComparison.Ordinal);
        Assert.Equal(warning, confirmed.Stderr.Split('\n').Where(l => l.Contains("warning", StringComparison.Ordinal)).SingleOrDefault());
        var holders = (await redis.Locks.InspectSemaphoreAsync(resource)).Holders;
        Assert.Equal(kept.HolderId, Assert.Single(holders).HolderId);
        Assert.False(await stuck.ReleaseAsync());
    }

    [Fact]
    public async Task ReleaseHolder_WithoutSemaphore_IsAUsageError()
    {
        using var tool = await Tool.RunAsync(["release", NewResource(), "--holder-id", "x", "--force", "--yes"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Contains("--holder-id", tool.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReleaseSemaphore_HolderAndHolderId_IsAUsageError()
    {
        using var tool = await Tool.RunAsync(["release", "--semaphore", NewResource(), "--holder", "a", "--holder-id", "a", "--force", "--yes"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal("distlock: --holder is the old name of --holder-id: give only --holder-id", tool.Stderr.Trim());
    }

    [Fact]
    public async Task StatusOfTheLock_WhileOnlyTheSemaphoreOfThatNameIsHeld_PointsToIt()
    {
        var resource = NewResource();
        await using var held = await redis.Locks.AcquireSemaphoreAsync(resource, 2);

        using var tool = await Tool.RunAsync(["status", resource], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
        Assert.Contains("free", tool.Stdout, StringComparison.Ordinal);
        Assert.Contains($"the semaphore of that name has 1 holder(s): distlock status --semaphore {resource}", tool.Stderr, StringComparison.Ordinal);
    }
}
