namespace DistLock.Cli.Tests;

/// <summary>Errors name the flag or the command at fault, in the tool's words, never .NET's.</summary>
[Collection(RedisCollection.Name)]
public sealed class ErrorMessageTests(RedisFixture redis)
{
    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task Exec_EmptyResource_NamesTheFlag(string resource)
    {
        // Regression: "distlock: The value cannot be an empty string or composed entirely of whitespace."
        using var tool = await Tool.RunAsync(["exec", "--resource", resource, "--", "true"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal("distlock: --resource: a lock name cannot be empty", tool.Stderr.Trim());
    }

    [Fact]
    public async Task Status_EmptyName_SaysSo()
    {
        using var tool = await Tool.RunAsync(["status", ""], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal("distlock: status: a lock name cannot be empty", tool.Stderr.Trim());
    }
}
