using System.Collections.Concurrent;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace DistLock.Cli;

/// <summary>System.CommandLine's help, followed by the command's examples (every --help shows some).</summary>
internal sealed class ExamplesHelpAction(HelpAction standard) : SynchronousCommandLineAction
{
    /// <summary>Examples by command name; the root's under "distlock".</summary>
    public static ConcurrentDictionary<string, string[]> Examples { get; } = new(StringComparer.Ordinal);

    public override int Invoke(ParseResult parseResult)
    {
        var exitCode = standard.Invoke(parseResult);
        var command = parseResult.CommandResult.Command;
        if (Examples.TryGetValue(command.Parents.Any() ? command.Name : Cli.Name, out var examples))
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Examples:");
            foreach (var example in examples)
            {
                output.WriteLine("  " + example);
            }

            output.WriteLine();
        }

        return exitCode;
    }
}
