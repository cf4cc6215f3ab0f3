using DistLock.Testing;
using System.Diagnostics;
using System.Runtime.InteropServices;
using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// The package as a .NET 8 application gets it: DistLock is packed into a local feed, a
/// self-contained net8.0 console app (PackageConsumer/) restores it from there, and takes, extends
/// and releases a lock on a real redis-server. Needs only the .NET 10 SDK: the 8.0 targeting and
/// runtime packs come from NuGet.
/// </summary>
[Collection(SingleNodeCollection.Name)]
public sealed class PackageConsumerTests(SingleNodeFixture nodes)
{
    [Fact]
    public async Task PackedLibrary_OnNet8_TakesExtendsAndReleasesALock()
    {
        var work = Directory.CreateTempSubdirectory("distlock-net8-").FullName;
        try
        {
            // A version of its own, so the global package cache cannot answer with an older build.
            var version = $"0.1.0-ci.{Environment.ProcessId}.{TimeProvider.System.GetTimestamp()}";
            var feed = Path.Combine(work, "feed");
            var app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "PackageConsumer")))
            {
                File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
            }

            // Packed from a copy of the sources: packing with another version must not touch the bin and
            // obj folders that builds and other tests use.
            var sources = CopySources(Path.Combine(work, "src"));
            await RunAsync("dotnet", ["pack", Path.Combine(sources, "src/DistLock/DistLock.csproj"), "-c", "Release", "-o", feed,
                $"-p:Version={version}", "-nologo", "-v", "quiet"]);
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            var output = Path.Combine(work, "out");
            await RunAsync("dotnet", ["publish", app, "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "-o", output,
                $"-p:DistLockVersion={version}", "-nologo", "-v", "quiet"]);

            var log = await RunAsync(Path.Combine(output, "Net8Consumer"), [nodes.Servers[0].Endpoint]);

            Assert.Contains(".NET 8.", log, StringComparison.Ordinal);
            Assert.Contains("extended", log, StringComparison.Ordinal);
            Assert.Contains("released", log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>What packing DistLock needs: the root build files, src/DistLock and src/Shared, without bin and obj.</summary>
    private static string CopySources(string target)
    {
        var root = RepositoryPaths.Root();
        foreach (var file in Directory.GetFiles(root).Where(f => !Path.GetFileName(f).EndsWith(".slnx", StringComparison.Ordinal)))
        {
            Directory.CreateDirectory(target);
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (var folder in new[] { "src/DistLock", "src/Shared" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, file);
                if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
                {
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
                File.Copy(file, Path.Combine(target, relative));
            }
        }

        return target;
    }

    private static async Task<string> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        var log = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{log}");
        return log;
    }
}
