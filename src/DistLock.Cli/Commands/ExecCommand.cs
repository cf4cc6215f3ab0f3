using System.CommandLine;
using System.Globalization;

namespace DistLock.Cli.Commands;

/// <summary><c>distlock exec</c>: run a command while holding a lock.</summary>
internal static class ExecCommand
{
    public const string TokenVariable = "DISTLOCK_FENCING_TOKEN";

    /// <param name="commandLine">The command to run: what followed "--" on distlock's command line.</param>
    public static Command Create(string[] commandLine)
    {
        var redis = CommonOptions.Redis();
        var prefix = CommonOptions.Prefix();
        var resource = new Option<string>("--resource") { Description = "The name of the lock", Required = true };
        var ttl = new Option<string>("--ttl") { Description = "Lock TTL; the lock is extended every third of it while the command runs", DefaultValueFactory = _ => "30s" };
        var wait = new Option<string>("--wait") { Description = "How long to wait for the lock: 0 tries once, inf waits forever", DefaultValueFactory = _ => "inf" };
        var onLost = new Option<string>("--on-lost") { Description = "What to do when the lock is lost while the command runs", DefaultValueFactory = _ => "kill" };
        onLost.AcceptOnlyFromAmong("kill", "ignore");
        var exec = new Command("exec", "Run a command while holding a lock; exit with its exit code. Usage: distlock exec --resource NAME [options] -- COMMAND [ARGS...]")
        {
            redis, prefix, resource, ttl, wait, onLost,
        };
        exec.SetAction((parse, cancellationToken) => RunAsync(
            RedisTargets.Resolve(parse.GetValue(redis)),
            parse.GetValue(prefix)!,
            parse.GetValue(resource)!,
            Durations.Parse(parse.GetValue(ttl)!, "--ttl"),
            Durations.Parse(parse.GetValue(wait)!, "--wait"),
            parse.GetValue(onLost) == "kill",
            commandLine,
            cancellationToken));
        return exec;
    }

    private static async Task<int> RunAsync(
        IReadOnlyList<string> targets, string prefix, string resource, TimeSpan ttl, TimeSpan wait, bool killOnLost, string[] command, CancellationToken cancellationToken)
    {
        if (command.Length == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            throw new CliException(ExitCodes.Usage, "exec: the command is empty");
        }

        var options = CommonOptions.LockOptions(prefix);
        try
        {
            options.Ttl = ttl;
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--ttl: {ex.Message}", ex);
        }

        using var interrupts = new Interrupts();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupts.Token);
        await using var locks = await RedisTargets.ConnectAsync(targets, options, cancel.Token);
        LockHandle handle;
        try
        {
            handle = await AcquireAsync(locks, resource, wait, cancel.Token);
        }
        catch (OperationCanceledException) when (interrupts.Received is not null)
        {
            return interrupts.ExitCode;
        }

        await using var held = handle;
        var environment = new Dictionary<string, string>
        {
            [TokenVariable] = handle.FencingToken.ToString(CultureInfo.InvariantCulture),
            ["DISTLOCK_RESOURCE"] = resource,
            ["DISTLOCK_LOCK_ID"] = handle.Id,
        };

        using var child = ChildProcess.Start(command, environment);

        // distlock stays up until the command exits, to release the lock; signals are the command's.
        interrupts.ForwardTo(child.Signal);
        var lost = 0;
        await using var onLost = handle.LostToken.Register(() =>
        {
            Interlocked.Exchange(ref lost, 1);
            Console.Error.WriteLine(killOnLost
                ? $"distlock: lost the lock on '{resource}'; stopping {command[0]}"
                : $"distlock: lost the lock on '{resource}'; {command[0]} keeps running (--on-lost ignore)");
            if (killOnLost)
            {
                _ = child.StopAsync();
            }
        });

        var exitCode = await child.WaitForExitAsync();
        return Volatile.Read(ref lost) == 1 && killOnLost ? ExitCodes.LockLost : exitCode;
    }

    private static async Task<LockHandle> AcquireAsync(RedisLockManager locks, string resource, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            return await locks.AcquireAsync(resource, wait, cancellationToken);
        }
        catch (LockTimeoutException)
        {
            var waited = wait == TimeSpan.Zero ? "" : $" within {wait}";
            throw new CliException(ExitCodes.NotAcquired, $"lock '{resource}' is held by someone else; not acquired{waited}");
        }
    }
}
