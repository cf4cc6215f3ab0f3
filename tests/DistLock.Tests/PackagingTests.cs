using DistLock.Testing;
using System.Diagnostics;
using System.IO.Compression;

namespace DistLock.Tests;

/// <summary>
/// dotnet pack, then a look inside: each package carries the README and license, the libraries
/// their XML docs, and a symbol package sits beside each.
/// </summary>
public sealed class PackagingTests
{
    [Theory]
    [InlineData("src/DistLock/DistLock.csproj", "DistLock", "lib/net10.0/DistLock.xml")]
    [InlineData("src/DistLock.Extensions.DependencyInjection/DistLock.Extensions.DependencyInjection.csproj", "DistLock.Extensions.DependencyInjection", "lib/net10.0/DistLock.Extensions.DependencyInjection.xml")]
    [InlineData("src/DistLock.Cli/DistLock.Cli.csproj", "DistLock.Cli", "tools/net10.0/any/DotnetToolSettings.xml")]
    public async Task Pack_ProducesAPackageWithReadmeLicenseDocsAndSymbols(string project, string id, string expected)
    {
        var output = Directory.CreateTempSubdirectory("distlock-pack-").FullName;
        try
        {
            var start = new ProcessStartInfo("dotnet", ["pack", Path.Combine(RepositoryPaths.Root(), project), "-c", "Release", "-o", output, "-nologo", "-v", "quiet"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var pack = Process.Start(start)!;
            var log = await pack.StandardOutput.ReadToEndAsync() + await pack.StandardError.ReadToEndAsync();
            await pack.WaitForExitAsync();
            Assert.True(pack.ExitCode == 0, log);

            var package = Assert.Single(PackagesOf(output, id, ".nupkg"));
            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains("LICENSE", entries);
            Assert.Contains(expected, entries);
            Assert.Single(PackagesOf(output, id, ".snupkg"));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>The packages of <paramref name="id"/> (any version, a pre-release included) in <paramref name="folder"/>.</summary>
    private static string[] PackagesOf(string folder, string id, string extension) =>
        [.. Directory.GetFiles(folder, "*" + extension).Where(f =>
            System.Text.RegularExpressions.Regex.IsMatch(Path.GetFileName(f), "^" + System.Text.RegularExpressions.Regex.Escape(id) + @"\.[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?" + System.Text.RegularExpressions.Regex.Escape(extension) + "$"))];
}
