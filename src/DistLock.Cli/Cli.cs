using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using DistLock.Cli.Commands;

namespace DistLock.Cli;

/// <summary>The command tree, parsing, and how every failure becomes one line and an exit code.</summary>
internal static partial class Cli
{
    public const string Name = "distlock";

    public static async Task<int> RunAsync(string[] args)
    {
        // exec's command is everything after the first "--", taken as it is: no option parsing there,
        // and a stray option before it is an error instead of the first word of the command.
        var separator = Array.IndexOf(args, "--");
        var own = separator < 0 ? args : args[..separator];
        var verbose = own.Contains(CommonOptions.VerboseFlag);
        // The command word: the first that is not an option ("distlock --verbose exec ..." too).
        var word = own.FirstOrDefault(a => !a.StartsWith('-'));
        var isExec = word == "exec";
        var wantsHelp = own.Any(a => a is "-h" or "--help" or "-?");
        if (isExec && separator < 0 && !wantsHelp)
        {
            return Fail(ExitCodes.Usage, "exec needs -- before the command, e.g. distlock exec --resource nightly -- ./backup.sh (see distlock exec --help)");
        }

        var root = Root(isExec && separator >= 0 ? args[(separator + 1)..] : []);
        if (own.All(a => a == CommonOptions.VerboseFlag))
        {
            return Fail(ExitCodes.Usage, $"give a command: {string.Join(", ", Visible(root))} (see distlock --help)");
        }

        if (word == "help")
        {
            // "distlock help exec", as git and dotnet take it: point to the flag that does it.
            var topic = own.SkipWhile(a => a != "help").Skip(1).FirstOrDefault(a => !a.StartsWith('-'));
            var command = topic is not null && Visible(root).Contains(topic) ? $"distlock {topic} --help" : "distlock --help";
            return Fail(ExitCodes.Usage, $"unknown command 'help'; for help type {command}");
        }

        // "distlock --redis host status x": a command's option before the command. The parser would
        // take the option's value for the command ("unknown command 'host'").
        var early = own.TakeWhile(a => a != word).Select(a => a.Split('=')[0]).FirstOrDefault(a => a.StartsWith('-') && !root.Options.Any(o => o.Name == a || o.Aliases.Contains(a)));
        var commandOf = early is null ? null : root.Subcommands.FirstOrDefault(c => !c.Hidden && c.Options.Any(o => o.Name == early || o.Aliases.Contains(early)));
        if (commandOf is not null && !wantsHelp)
        {
            var named = own.FirstOrDefault(a => Visible(root).Contains(a)) ?? commandOf.Name;
            return Fail(ExitCodes.Usage, $"{early} is an option of the commands, not of distlock: write it after the command, as in distlock {named} {early} ... (see distlock {named} --help)");
        }

        if (word is not null && !root.Subcommands.Any(c => c.Name == word))
        {
            return Fail(ExitCodes.Usage, $"unknown command '{word}'{Suggest(word, Visible(root))} (see distlock --help)");
        }

        var parse = root.Parse(own);
        // A lock name or pattern that looks like an option is a mistyped flag ("list --jsn",
        // "release --frce x"), not a lock named "--jsn": the parser took it as the argument.
        var stray = parse.CommandResult.Children.OfType<ArgumentResult>()
            .SelectMany(a => a.Tokens).FirstOrDefault(t => t.Value.Length > 1 && t.Value.StartsWith('-'));
        if (stray is not null && !wantsHelp)
        {
            var command = parse.CommandResult.Command;
            return Fail(ExitCodes.Usage, $"{UnknownOption(stray.Value, command)} (see distlock {command.Name} --help)");
        }

        // --help wins over a missing required option: "distlock exec --help" must show the help.
        if (parse.Errors.Count > 0 && !wantsHelp)
        {
            var command = parse.CommandResult.Command;
            var where = command == root ? "distlock --help" : $"distlock {command.Name} --help";
            // A token the parser did not know says more than "required command was not provided".
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            return Fail(ExitCodes.Usage, $"{Describe(error.Message, command)} (see {where})");
        }

        try
        {
            // Signals are ours: exec passes them on to its command, the others clean up and exit.
            return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
        }
        catch (CliException ex)
        {
            // Expected outcomes (a busy lock, a bad flag) have no cause worth a stack trace.
            return Fail(ex.ExitCode, ex.Message, verbose ? ex.InnerException : null);
        }
        catch (LockBackendException ex) when (PermissionDenied(ex) is { } refusal)
        {
            // Not an outage: the servers answered, and refused this user a command.
            return Fail(ExitCodes.PermissionDenied, $"permission denied: {ErrorText.Clean(refusal)} (the ACL rule in docs/deployment.md lists what DistLock needs)", verbose ? ex : null);
        }
        catch (LockBackendException ex)
        {
            return Fail(ExitCodes.RedisUnavailable, verbose ? ex.Message : Outage(ex), verbose ? ex : null);
        }
        catch (ArgumentException ex)
        {
            // The library validates every argument it is given: here, what the user typed.
            return Fail(ExitCodes.Usage, ex.Message, verbose ? ex : null);
        }
        catch (OperationCanceledException)
        {
            return Fail(130, "interrupted");
        }
    }

    /// <summary>
    /// An outage in one line: the client's diagnostics go, but the kind of failure they name stays
    /// ("Redis at host:port failed (connection closed by the server)"), and the sentence starts lower case as the tool's others do.
    /// </summary>
    private static string Outage(LockBackendException error)
    {
        var text = ErrorText.Clean(error.Message);
        for (Exception? cause = error; cause is not null && !text.EndsWith(')'); cause = cause.InnerException)
        {
            if (ErrorText.ConnectionFailure(cause.Message) is { } kind)
            {
                text += $" ({kind})";
            }
        }

        return text.Length > 0 ? char.ToLowerInvariant(text[0]) + text[1..] : text;
    }

    /// <summary>Redis's NOPERM answer among the causes of <paramref name="error"/>, or null.</summary>
    private static string? PermissionDenied(Exception error)
    {
        for (var cause = error.InnerException; cause is not null; cause = cause.InnerException)
        {
            if (cause is StackExchange.Redis.RedisServerException && cause.Message.StartsWith("NOPERM", StringComparison.Ordinal))
            {
                return cause.Message;
            }
        }

        return null;
    }

    /// <summary>The whole tree; <paramref name="execCommand"/> is what followed exec's "--".</summary>
    public static Command Root(string[] execCommand)
    {
        // A plain command named "distlock" rather than RootCommand, whose name (and so the help's
        // usage line) is the assembly's, DistLock.Cli.
        ExamplesHelpAction.Examples[Name] =
        [
            "distlock exec --resource nightly-backup --wait 0 -- ./backup.sh",
            "distlock status nightly-backup",
            "distlock demo",
        ];
        var root = new Command(Name, "Distributed locks on Redis, from the command line. Durations: 250ms, 10s, 5m, 2h, 1d, 1m30s; 0; inf.")
        {
            ExecCommand.Create(execCommand),
            InspectCommands.Status(),
            InspectCommands.List(),
            InspectCommands.Release(),
            ServeCommand.Create(),
            DemoCommand.Create(),
            DemoWorkerCommand.Create(),
        };
        var help = new HelpOption();
        help.Action = new ExamplesHelpAction((HelpAction)help.Action!);
        root.Options.Add(help);
        root.Options.Add(new VersionOption());
        root.Options.Add(CommonOptions.Verbose());
        return root;
    }

    private static IReadOnlyList<string> Visible(Command root) => [.. root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name)];

    /// <summary>System.CommandLine's parse errors, in the tool's words.</summary>
    private static string Describe(string message, Command command)
    {
        const string Unrecognized = "Unrecognized command or argument '";
        var text = ErrorText.Clean(message);
        if (text.StartsWith(Unrecognized, StringComparison.Ordinal))
        {
            var token = text[Unrecognized.Length..].TrimEnd('.').TrimEnd('\'');
            return token.StartsWith('-') ? UnknownOption(token, command) : $"unexpected argument '{token}' for {Title(command)}";
        }

        // "Cannot parse argument 'two' for option '--permits' as expected type 'System.Nullable`1[System.Int32]'".
        var unparsed = CannotParse().Match(text);
        if (unparsed.Success)
        {
            var what = unparsed.Groups["type"].Value.Contains("Int", StringComparison.Ordinal) ? "a whole number" : "a number";
            return $"{unparsed.Groups["option"].Value}: '{unparsed.Groups["value"].Value}' is not {what}";
        }

        return char.ToLowerInvariant(text[0]) + text[1..].TrimEnd('.');
    }

    private static string UnknownOption(string token, Command command)
    {
        var options = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).ToList();
        return $"unknown option '{token}' for {Title(command)}{Suggest(token, options)}";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();

    private static string Title(Command command) => command.Parents.Any() ? $"{Name} {command.Name}" : Name;

    /// <summary>"; did you mean 'status'?" for the nearest candidate within a few edits.</summary>
    public static string Suggest(string typed, IEnumerable<string> candidates)
    {
        var best = candidates
            .Select(c => (Name: c, Distance: NearestName.EditDistance(typed, c)))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, typed.Length / 3) ? $"; did you mean '{best.Name}'?" : string.Empty;
    }


    private static int Fail(int exitCode, string message, Exception? details = null)
    {
        Console.Error.WriteLine($"distlock: {(details is null ? ErrorText.Clean(message) : ErrorText.OneLine(message))}");
        if (details is not null)
        {
            Console.Error.WriteLine(details.ToString());
        }

        return exitCode;
    }
}
