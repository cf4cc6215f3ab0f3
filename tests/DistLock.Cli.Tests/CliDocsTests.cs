using DistLock.Testing;
namespace DistLock.Cli.Tests;

/// <summary>docs/cli.md shows each command's --help exactly as the built tool prints it.</summary>
public sealed class CliDocsTests
{
    [Theory]
    [InlineData]
    [InlineData("exec")]
    [InlineData("status")]
    [InlineData("list")]
    [InlineData("release")]
    [InlineData("serve")]
    [InlineData("demo")]
    public async Task CliDoc_ShowsTheRealHelpText_OfEachCommand(params string[] command)
    {
        using var tool = await Tool.RunAsync([.. command, "--help"]);
        var doc = (await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root(), "docs", "cli.md"))).ReplaceLineEndings("\n");

        var help = tool.Stdout.ReplaceLineEndings("\n").TrimEnd('\n');
        Assert.True(
            doc.Contains("```text\n" + help + "\n```", StringComparison.Ordinal),
            $"docs/cli.md lacks the current help of 'distlock {string.Join(' ', command)}'; paste this in a text block:\n{help}");
    }

    [Fact]
    public async Task CliDoc_ListsEveryJsonField_UnderItsOwnName()
    {
        var doc = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root(), "docs", "cli.md"));

        var missing = JsonFields.LockAmongSeveral.Concat(JsonFields.Semaphore).Where(field => !doc.Contains($"| `{field}` |", StringComparison.Ordinal));
        Assert.Empty(missing);
        Assert.Contains("{" + string.Join(", ", JsonFields.Holder) + "}", doc, StringComparison.Ordinal);
    }
}
