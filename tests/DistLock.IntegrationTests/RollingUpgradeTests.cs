using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.Testing;

namespace DistLock.IntegrationTests;

/// <summary>
/// A rolling upgrade from 1.0.0-rc.1: processes of rc.1 (the package packed from rc.1's sources, the
/// commit it was released from, into a local feed) and holders of this version take the same locks at
/// once, as writers, readers and permits of a semaphore of two (rc.1's writers take its write lock,
/// this version's the exclusive lock, which is the same lock). They must never hold together what
/// only one may (a shared tally in Redis counts any overlap), and both must get their turns.
/// </summary>
[Collection(SingleNodeCollection.Name)]
public sealed class RollingUpgradeTests(SingleNodeFixture nodes)
{
    /// <summary>The commit 1.0.0-rc.1 was released from.</summary>
    private const string Rc1Commit = "9957a95";

    [Fact]
    public async Task Rc1ProcessesAndThisVersion_OnTheSameLocks_NeverHoldTogether()
    {
        var work = Directory.CreateTempSubdirectory("distlock-rc1-").FullName;
        try
        {
            var worker = await BuildRc1WorkerAsync(work);
            var endpoint = nodes.Servers[0].Endpoint;
            var resource = "upgrade-" + Guid.NewGuid().ToString("N")[..8];
            const double Seconds = 4;
            using var rc1Writer = Start(worker, endpoint, resource, Seconds, "write");
            using var rc1Reader = Start(worker, endpoint, resource, Seconds, "read");
            using var rc1Permit = Start(worker, endpoint, resource + "-sem", Seconds, "permit");

            // A manager per loop, as separate processes: each takes its first turn straight from Redis.
            var db = nodes.Inspectors[0].GetDatabase();
            var managers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => nodes.ConnectAsync()));
            var mine = await Task.WhenAll(
                LoopAsync(managers[0], db, resource, "write", Seconds),
                LoopAsync(managers[1], db, resource, "read", Seconds),
                LoopAsync(managers[2], db, resource + "-sem", "permit", Seconds),
                LoopAsync(managers[3], db, resource + "-sem", "permit", Seconds));
            foreach (var manager in managers)
            {
                await manager.DisposeAsync();
            }

            var theirs = await Task.WhenAll(new[] { rc1Writer, rc1Reader, rc1Permit }.Select(AcquisitionsAsync));
            Assert.All(mine, n => Assert.True(n > 0, "this version got no turn"));
            Assert.All(theirs, n => Assert.True(n > 0, "rc.1 got no turn"));
            Assert.Equal(0, (long)await db.StringGetAsync($"{resource}:violations"));
            Assert.Equal(0, (long)await db.StringGetAsync($"{resource}-sem:violations"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<int> LoopAsync(RedisLockManager locks, StackExchange.Redis.IDatabase db, string resource, string mode, double seconds)
    {
        var acquisitions = 0;
        var until = TimeProvider.System.GetTimestamp() + (long)(seconds * TimeProvider.System.TimestampFrequency);
        while (TimeProvider.System.GetTimestamp() < until)
        {
            await using var handle = mode switch
            {
                "read" => await locks.AcquireReadAsync(resource, TimeSpan.FromSeconds(30)),
                "permit" => await locks.AcquireSemaphoreAsync(resource, 2, TimeSpan.FromSeconds(30)),
                _ => await locks.AcquireAsync(resource, TimeSpan.FromSeconds(30)),
            };
            await RollingUpgradeTally.EnterAsync(db, resource, mode);
            await Task.Delay(Random.Shared.Next(2, 10)); // held a moment, so that the others contend for it
            await RollingUpgradeTally.LeaveAsync(db, resource, mode);
            acquisitions++;
        }

        return acquisitions;
    }

    /// <summary>Packs rc.1's sources (from git) into a local feed and builds the worker against that package.</summary>
    private static async Task<string> BuildRc1WorkerAsync(string work)
    {
        var root = RepositoryPaths.Root();
        var sources = Path.Combine(work, "rc1");
        Directory.CreateDirectory(sources);
        var archive = Path.Combine(work, "rc1.tar");
        var paths = new[] { "src/DistLock", "src/Shared", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "BannedSymbols.txt", "LICENSE", "README.md" };
        await RunAsync("git", ["-C", root, "archive", "--format=tar", "-o", archive, Rc1Commit, "--", .. paths],
            $"rc.1's sources come from commit {Rc1Commit}: clone the repository with its history");
        await RunAsync("tar", ["-xf", archive, "-C", sources]);

        // A version of its own, so the global package cache cannot answer with another build.
        var version = $"1.0.0-rc.1.ci.{Environment.ProcessId}.{TimeProvider.System.GetTimestamp()}";
        var feed = Path.Combine(work, "feed");
        await RunAsync("dotnet", ["pack", Path.Combine(sources, "src/DistLock/DistLock.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}", "-nologo", "-v", "quiet"]);

        var app = Path.Combine(work, "app");
        Directory.CreateDirectory(app);
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "RollingUpgrade")))
        {
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        }

        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="rc1" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var output = Path.Combine(work, "out");
        await RunAsync("dotnet", ["build", app, "-c", "Release", "-o", output, $"-p:DistLockVersion={version}", "-nologo", "-v", "quiet"]);
        return Path.Combine(output, "Rc1Worker.dll");
    }

    private static Process Start(string worker, string endpoint, string resource, double seconds, string mode)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { worker, endpoint, resource, seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), mode })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static async Task<int> AcquisitionsAsync(Process worker)
    {
        var stdout = worker.StandardOutput.ReadToEndAsync();
        var stderr = worker.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await worker.WaitForExitAsync(timeout.Token);
        var output = await stdout;
        Assert.True(worker.ExitCode == 0, $"the rc.1 worker exited {worker.ExitCode}: {output}{await stderr}");
        return int.Parse(output.Trim().Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task RunAsync(string program, string[] arguments, string? hint = null)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        var log = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}{(hint is null ? "" : $" ({hint})")}:\n{log}");
    }
}
