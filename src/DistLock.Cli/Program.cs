using DistLock.Cli;
using Spectre.Console;

// distlock: run a command under a Redis lock, look at locks, clear a stuck one, serve a local
// Redis-compatible server, and a live demo. Errors are one line on stderr with a documented
// exit code (docs/cli.md); --verbose adds the full details.
if (Console.IsOutputRedirected)
{
    // Tables for scripts and logs: no wrapping at the default 80 columns.
    AnsiConsole.Profile.Width = 200;
}

return await Cli.RunAsync(args);
