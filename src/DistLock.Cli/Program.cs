using System.CommandLine;
using DistLock.Cli;
using DistLock.Cli.Commands;
using DistLock;
using Spectre.Console;

// distlock: run a command under a Redis lock, look at locks, clear a stuck one, serve a local
// Redis-compatible server, and a live demo. Errors are one line on stderr with a documented
// exit code (docs/cli.md).
// exec's command is everything after the first "--", taken as it is: no option parsing there,
// and a stray option before it is an error instead of the first word of the command.
var separator = Array.IndexOf(args, "--");
var isExec = args.Length > 0 && args[0] == "exec";
if (isExec && separator < 0)
{
    Console.Error.WriteLine("distlock: exec needs -- before the command, e.g. distlock exec --resource nightly -- ./backup.sh");
    return ExitCodes.Usage;
}

var command = isExec ? args[(separator + 1)..] : [];
var root = new RootCommand("distlock: distributed locks on Redis, from the command line")
{
    ExecCommand.Create(command),
    InspectCommands.Status(),
    InspectCommands.List(),
    InspectCommands.Release(),
    ServeCommand.Create(),
    DemoCommand.Create(),
    DemoWorkerCommand.Create(),
};

if (Console.IsOutputRedirected)
{
    // Tables for scripts and logs: no wrapping at the default 80 columns.
    AnsiConsole.Profile.Width = 200;
}

var parse = root.Parse(isExec ? args[..separator] : args);
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine($"distlock: {OneLine(parse.Errors[0].Message)} (see distlock --help)");
    return ExitCodes.Usage;
}

try
{
    // Signals are ours: exec passes them on to its command, the others clean up and exit.
    return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
}
catch (CliException ex)
{
    Console.Error.WriteLine($"distlock: {OneLine(ex.Message)}");
    return ex.ExitCode;
}
catch (LockBackendException ex)
{
    Console.Error.WriteLine($"distlock: {OneLine(ex.Message)}");
    return ExitCodes.RedisUnavailable;
}
catch (ArgumentException ex)
{
    // The library validates every argument it is given: here, what the user typed.
    Console.Error.WriteLine($"distlock: {OneLine(ex.Message)}");
    return ExitCodes.Usage;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("distlock: interrupted");
    return 130;
}

static string OneLine(string message) =>
    string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
