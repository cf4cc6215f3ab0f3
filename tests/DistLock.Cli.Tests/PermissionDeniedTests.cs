using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>A Redis user whose ACL lacks a right DistLock needs: exit 77 and the refusal, not "unavailable".</summary>
public sealed class PermissionDeniedTests
{
    [Fact]
    public async Task List_AsAUserWithoutScan_ExitsWithPermissionDenied()
    {
        await using var server = await RedisServer.StartAsync(["--user", "limited", "on", ">limited-secret", "~*", "&*", "+@all", "-scan"]);

        using var tool = await Tool.RunAsync(["list", "--redis", server.Endpoint + ",user=limited,password=limited-secret"]);

        Assert.Equal(77, tool.ExitCode);
        Assert.StartsWith("distlock: permission denied: NOPERM", tool.Stderr, StringComparison.Ordinal);
        Assert.Contains("docs/deployment.md", tool.Stderr, StringComparison.Ordinal);
    }
}
