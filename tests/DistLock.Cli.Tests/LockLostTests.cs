using System.Diagnostics;
using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

public sealed class LockLostTests
{
    [Fact]
    public async Task RedisPausedPastTheTtl_TheCommandIsStopped_AndExecExits70()
    {
        await using var server = await RedisServer.StartAsync();
        await using var locks = await RedisLockManager.ConnectAsync(server.Endpoint, new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(10) });
        using var tool = Tool.Start(["exec", "--resource", "lost", "--ttl", "600ms", "--", "sleep", "30"], server.Endpoint + ",syncTimeout=300,asyncTimeout=300");
        await RedisFixture.WaitUntilHeldAsync(locks, "lost");
        // exec asks for its fencing token before it starts the command: the pause must come after.
        while ((await locks.InspectAsync("lost")).LastFencingToken == 0)
        {
            await Task.Delay(10); // a poll: exec's next step leaves no other trace
        }

        await server.PauseAsync();
        var stopwatch = Stopwatch.StartNew();
        await Task.Delay(1500); // time must pass: Redis stays paused past the lock's 600 ms TTL, so exec's lease runs out
        server.Resume();
        var exitCode = await tool.WaitAsync(20);

        Assert.Equal(70, exitCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"exec took {stopwatch.Elapsed} to stop its command");
        Assert.Contains("lost the lock", tool.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnLostIgnore_TheCommandFinishes_WithItsOwnExitCode()
    {
        await using var server = await RedisServer.StartAsync();
        await using var locks = await RedisLockManager.ConnectAsync(server.Endpoint, new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(10) });
        using var tool = Tool.Start(["exec", "--resource", "ignored", "--ttl", "600ms", "--on-lost", "ignore", "--", "sh", "-c", "sleep 1.5; exit 3"], server.Endpoint);
        await RedisFixture.WaitUntilHeldAsync(locks, "ignored");
        while ((await locks.InspectAsync("ignored")).LastFencingToken == 0)
        {
            await Task.Delay(10); // a poll: exec asks for its token before it starts the command, and leaves no other trace
        }

        Assert.True(await locks.ForceReleaseAsync("ignored"));

        Assert.Equal(3, await tool.WaitAsync(20));
        Assert.Contains("keeps running", tool.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Regression (a review, 2026-12-06): a distlock killed with SIGKILL (or by the OOM killer) left
    /// its command running, past the lock's TTL and beside the next holder. On Linux the command
    /// now dies with it; with --on-lost ignore it was asked to keep running, and does.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExecKilled_TheCommandDiesWithIt_UnlessOnLostIgnore(bool onLostIgnore)
    {
        await using var server = await RedisServer.StartAsync();
        await using var locks = await RedisLockManager.ConnectAsync(server.Endpoint);
        var resource = "killed-" + Guid.NewGuid().ToString("N")[..8];
        var pidFile = Path.Combine(Path.GetTempPath(), resource + ".pid");
        string[] ignore = onLostIgnore ? ["--on-lost", "ignore"] : [];
        using var tool = Tool.Start(["exec", "--resource", resource, .. ignore, "--", "sh", "-c", $"echo $$ > {pidFile}; exec sleep 300"], server.Endpoint);
        var command = 0;
        try
        {
            await Until.TrueAsync(async () => File.Exists(pidFile) && int.TryParse(await File.ReadAllTextAsync(pidFile), out command), "the command wrote its pid", 60);

            tool.Process.Kill(); // SIGKILL, to distlock alone: nothing of it runs after this

            if (onLostIgnore)
            {
                await Task.Delay(1000); // time must pass: a parent-death signal would have come at once
                Assert.True(Alive(command), "--on-lost ignore: the command keeps running when distlock dies");
            }
            else
            {
                await Until.TrueAsync(() => Task.FromResult(!Alive(command)), "the command died with distlock");
            }
        }
        finally
        {
            if (command > 0 && Alive(command))
            {
                Process.GetProcessById(command).Kill(); // the test's own command, by its id
            }

            File.Delete(pidFile);
        }
    }

    /// <summary>Running, not a zombie: a killed process whose new parent does not reap it stays in /proc.</summary>
    private static bool Alive(int pid) => ProcessStates.Of(pid) is { } state && state != 'Z';
}
