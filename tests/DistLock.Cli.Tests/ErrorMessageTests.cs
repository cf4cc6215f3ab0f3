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

    [Fact]
    public async Task Exec_NotExecutable_OneLine_Exits126()
    {
        // Regression: .NET's "An error occurred trying to start process ... with working directory ...".
        var file = Path.Combine(Path.GetTempPath(), "distlock-noexec-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(file, "#!/bin/sh\nexit 0\n");
        try
        {
            using var tool = await Tool.RunAsync(["exec", "--resource", "noexec-" + Guid.NewGuid().ToString("N")[..8], "--", file], redis.Endpoint);

            Assert.Equal(126, tool.ExitCode);
            Assert.Equal($"distlock: cannot run {file}: permission denied", tool.Stderr.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Exec_NoSuchCommand_OneLine_Exits127()
    {
        using var tool = await Tool.RunAsync(["exec", "--resource", "nocmd-" + Guid.NewGuid().ToString("N")[..8], "--", "no-such-command-anywhere"], redis.Endpoint);

        Assert.Equal(127, tool.ExitCode);
        Assert.Equal("distlock: cannot run no-such-command-anywhere: command not found", tool.Stderr.Trim());
    }
}
