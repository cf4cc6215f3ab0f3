using System.CommandLine;

namespace DistLock.Cli.Commands;

/// <summary><c>distlock serve</c>: a Redis-compatible server for local development.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "The port to listen on (loopback only)", DefaultValueFactory = _ => 6379 };
        var serve = new Command("serve", CommonOptions.Describe(
            "Run an embedded Redis-compatible server (Garnet, Lua on, nothing kept on disk) on 127.0.0.1 until Ctrl+C",
            "distlock serve --port 6379",
            "distlock serve --port 6380 &  DISTLOCK_REDIS=127.0.0.1:6380 distlock exec --resource job -- ./job.sh"))
        {
            port,
        };
        serve.SetAction(async (parse, cancellationToken) =>
        {
            var requested = parse.GetValue(port);
            if (requested is < 0 or > 65535)
            {
                throw new CliException(ExitCodes.Usage, $"--port: {requested} is not a port");
            }

            using var interrupts = new Interrupts();
            using var server = EmbeddedServer.Start(requested, quiet: true);
            Console.WriteLine($"distlock: serving on {server.Endpoint} (Garnet, Lua on, nothing kept on disk); Ctrl+C stops");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupts.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Stopped by a signal.
            }

            return ExitCodes.Success;
        });
        return serve;
    }
}
