using DistLock.Testing;
using System.Diagnostics;
using System.IO.Compression;

namespace DistLock.Cli.Tests;

/// <summary>
/// The tool's package keeps only what serve and the demo need from Garnet (DistLock.Cli.csproj,
/// DropWhatServeDoesNotNeed). Regression: 23.7 MB packed, 122 MB installed, a 26 MB native pdb
/// in the symbol package.
/// </summary>
public sealed class PackageSizeTests
{
    [Fact]
    public async Task ToolPackage_IsUnder10MBPacked_And40MBUnpacked_WithoutCloudOrVectorSearchLibraries()
    {
        var output = Directory.CreateTempSubdirectory("distlock-tool-pack-").FullName;
        try
        {
            var start = new ProcessStartInfo("dotnet", ["pack", Path.Combine(RepositoryPaths.Root(), "src/DistLock.Cli/DistLock.Cli.csproj"), "-c", "Release", "-o", output, "-nologo"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var pack = Process.Start(start)!;
            var log = await pack.StandardOutput.ReadToEndAsync() + await pack.StandardError.ReadToEndAsync();
            await pack.WaitForExitAsync();
            Assert.True(pack.ExitCode == 0, log);

            var package = new FileInfo(Assert.Single(Directory.GetFiles(output, "DistLock.Cli.*.nupkg"), f => !f.EndsWith(".snupkg", StringComparison.Ordinal)));
            Assert.Contains($"{package.Name}: packed", log, StringComparison.Ordinal);
            Assert.InRange(package.Length, 1, 10_000_000);
            using var zip = ZipFile.OpenRead(package.FullName);
            Assert.InRange(zip.Entries.Sum(e => e.Length), 1, 40_000_000);
            Assert.DoesNotContain(zip.Entries, e => e.Name.Contains("diskann", StringComparison.Ordinal)
                || e.Name.StartsWith("Azure.Storage", StringComparison.Ordinal)
                || e.Name.StartsWith("Microsoft.Identity", StringComparison.Ordinal)
                || e.FullName.Contains("/ios/", StringComparison.Ordinal));
            Assert.InRange(new FileInfo(Assert.Single(Directory.GetFiles(output, "DistLock.Cli.*.snupkg"))).Length, 1, 1_000_000);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
