using DistLock.Testing;
using System.Text.RegularExpressions;

namespace DistLock.Tests;

/// <summary>
/// The dependency between the algorithm and the transport runs one way (docs/design.md): Algorithm/
/// owns the contracts it calls (ILockNode, Hold, INodeSubscription, NodeResult, NodeReply, the notices of
/// ReleaseNotice) and uses nothing of Transport/; Transport/ implements those contracts and uses
/// nothing else of Algorithm/. The wire format's markers are defined once, in C#.
/// </summary>
public sealed class LayeringTests
{
    private static readonly string[] Contracts = ["ILockNode", "INodeSubscription", "Hold", "NodeResult", "NodeReply", "ReleaseNotice"];

    [Fact]
    public void Algorithm_UsesNothingOfTransport()
    {
        var transportTypes = TypeNamesIn("Transport");
        var offenders = UsesOf("Algorithm", transportTypes.Append("DistLock.Transport"));

        Assert.True(offenders.Count == 0, "Algorithm/ uses Transport/: " + string.Join("; ", offenders));
    }

    [Fact]
    public void Transport_UsesOnlyTheAlgorithmsContracts()
    {
        var algorithmTypes = TypeNamesIn("Algorithm").Except(Contracts);
        var offenders = UsesOf("Transport", algorithmTypes);

        Assert.True(offenders.Count == 0, "Transport/ calls up into Algorithm/: " + string.Join("; ", offenders));
    }

    [Fact]
    public void Scripts_SpellNoWireMarkerThemselves()
    {
        foreach (var script in Directory.GetFiles(Path.Combine(SourceRoot(), "Transport", "Scripts"), "*.lua"))
        {
            var code = string.Join('\n', File.ReadLines(script).Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal)));
            Assert.DoesNotContain("'reserved:'", code, StringComparison.Ordinal);
            Assert.DoesNotContain("'read:'", code, StringComparison.Ordinal);
        }
    }

    /// <summary>Lines of the files under <paramref name="folder"/> that name one of <paramref name="names"/> (comments left out).</summary>
    private static List<string> UsesOf(string folder, IEnumerable<string> names)
    {
        var pattern = new Regex($@"\b({string.Join('|', names.Select(Regex.Escape))})\b", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
        var offenders = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(SourceRoot(), folder), "*.cs"))
        {
            foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l, i + 1)))
            {
                var code = line.TrimStart();
                if (!code.StartsWith("//", StringComparison.Ordinal) && pattern.Match(code) is { Success: true } match)
                {
                    offenders.Add($"{Path.GetFileName(file)}:{number} {match.Value}");
                }
            }
        }

        return offenders;
    }

    /// <summary>The type names declared under <paramref name="folder"/> (one type per file, named as the file).</summary>
    private static IEnumerable<string> TypeNamesIn(string folder) =>
        Directory.GetFiles(Path.Combine(SourceRoot(), folder), "*.cs").Select(Path.GetFileNameWithoutExtension).OfType<string>().ToList();

    private static string SourceRoot() => Path.Combine(RepositoryPaths.Root(), "src", "DistLock");
}
