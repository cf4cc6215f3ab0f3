namespace DistLock.Cli.Tests;

/// <summary>The one duration syntax (src/Shared/DurationText.cs) as the flags read it.</summary>
[Collection(RedisCollection.Name)]
public sealed class DurationFlagTests(RedisFixture redis)
{
    [Theory]
    [InlineData("--ttl", "30s10m", "distlock: --ttl: '30s10m' is not a duration: units go from the largest to the smallest (d, h, m, s, ms), each at most once; did you mean 10m30s?")]
    [InlineData("--ttl", "1m1m", "distlock: --ttl: '1m1m' is not a duration: units go from the largest to the smallest (d, h, m, s, ms), each at most once; did you mean 2m?")]
    [InlineData("--wait", "500ms1s", "distlock: --wait: '500ms1s' is not a duration: units go from the largest to the smallest (d, h, m, s, ms), each at most once; did you mean 1.5s?")]
    public async Task Exec_UnitsOutOfOrderOrRepeated_AreRefused_NamingTheFlag(string flag, string value, string expected)
    {
        // Regression: 30s10m was read as 10m30s, 1m1m as 2m.
        using var tool = await Tool.RunAsync(["exec", "--resource", "r", flag, value, "--", "true"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
    }

    [Fact]
    public async Task Exec_EveryUnitInDescendingOrder_IsAccepted()
    {
        using var tool = await Tool.RunAsync(["exec", "--resource", "dur-" + Guid.NewGuid().ToString("N")[..8], "--ttl", "1d2h3m4s500ms", "--wait", "1m30s", "--", "true"], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
    }
}
