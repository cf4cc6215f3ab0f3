using System.CommandLine;
using System.Globalization;

namespace DistLock.Cli.Commands;

/// <summary><c>distlock exec</c>: run a command while holding a lock, or while leading an election (<see cref="ExecLeader"/>).</summary>
internal static class ExecCommand
{
    public const string TokenVariable = "DISTLOCK_FENCING_TOKEN";

    /// <param name="commandLine">The command to run: what followed "--" on distlock's command line.</param>
    public static Command Create(string[] commandLine)
    {
        var redis = CommonOptions.Redis();
        var prefix = CommonOptions.Prefix();
        // Not Required: --leader names the lock instead, and the two are checked together (ExecLeader.Target).
        var resource = new Option<string[]>("--resource")
        {
            Description = "The name of the lock (or give --leader); repeat it to hold several locks together, all or none",
            AllowMultipleArgumentsPerToken = false,
        };
        resource.Validators.Add(ExecSet.RequireNames);
        var leader = ExecLeader.Option();
        var ttl = new Option<string>("--ttl") { Description = "Lock TTL (at least 200ms); the lock is extended every third of it while the command runs", DefaultValueFactory = _ => "30s" };
        var wait = new Option<string>("--wait") { Description = "How long to wait for the lock: 0 tries once, inf waits forever (250ms, 10s, 5m, 1m30s...)", DefaultValueFactory = _ => "inf" };
        var onLost = new Option<string>("--on-lost") { Description = "What to do when the lock is lost while the command runs", DefaultValueFactory = _ => "kill" };
        onLost.AcceptOnlyFromAmong("kill", "ignore");
        var label = new Option<string>("--label") { Description = "The holder label (holderLabel in status --json): who holds the lock, as status and waiting messages show it (default: host, pid and command)" };
        var read = new Option<bool>("--read") { Description = "Take a shared read lock instead of the exclusive lock: other --read runs may hold it too, a plain exec waits for them" };
        // rc.1's --write took the write lock, which is the exclusive lock exec takes without a flag.
        var write = CommonOptions.Deprecated<bool>("--write");
        var permits = ExecPermits.Option();
        var exec = new Command("exec", CommonOptions.Describe(
            "Run a command while holding a lock (or several together), or only while leader of an election; exit with its exit code.\n"
            + "Usage: distlock exec --resource NAME [--resource NAME...] [options] -- COMMAND [ARGS...]\n"
            + "       distlock exec --leader NAME [options] -- COMMAND [ARGS...]",
            "distlock exec --resource nightly-backup --wait 0 -- ./backup.sh     # cron on many hosts: runs on one",
            "distlock exec --resource deploy --wait 10m --ttl 1m -- make deploy",
            "distlock exec --resource account:17 --resource account:42 -- ./transfer.sh 17 42 100     # both accounts, all or none",
            "distlock exec --resource catalog --read -- ./export.sh        # many at once; a plain exec waits for them",
            "distlock exec --resource encoders --permits 4 -- ./encode.sh     # at most 4 at once",
            "distlock exec --leader reports --ttl 10s -- ./reportd         # runs on one instance; the next takes over"))
        {
            redis, prefix, resource, leader, ttl, wait, onLost, label, read, write, permits,
        };
        exec.SetAction((parse, cancellationToken) => RunAsync(
            RedisTargets.Resolve(parse.GetValue(redis)),
            ExecLeader.Target(parse.GetValue(resource) ?? [], parse.GetValue(leader), parse.GetValue(read), parse.GetValue(write), parse.GetValue(permits) is not null),
            ModeOf(parse.GetValue(read), parse.GetValue(write), parse.GetValue(permits) is not null),
            parse.GetValue(prefix)!,
            Durations.Parse(parse.GetValue(ttl)!, "--ttl", allowInfinite: false),
            Durations.Parse(parse.GetValue(wait)!, "--wait"),
            parse.GetValue(onLost) == "kill",
            parse.GetValue<bool>(CommonOptions.VerboseFlag),
            Label(parse.GetValue(label)),
            ExecPermits.Parse(parse.GetValue(permits)),
            commandLine,
            cancellationToken));
        return exec;
    }

    private static string? Label(string? label) =>
        label is not null && string.IsNullOrWhiteSpace(label)
            ? throw new CliException(ExitCodes.Usage, "--label: empty; give a label, or leave the flag out for the default (host, pid and command)")
            : label;

    /// <summary>
    /// The kind of hold the flags ask for. The deprecated --write names the exclusive lock, which exec
    /// takes without a flag (the library has no separate write lock), so it conflicts with the other
    /// kinds all the same.
    /// </summary>
    private static LockMode ModeOf(bool read, bool write, bool permits)
    {
        var mode = (read, write, permits) switch
        {
            (true, true, _) => throw new CliException(ExitCodes.Usage, "--read and --write do not go together"),
            (true, _, true) or (_, true, true) => throw new CliException(ExitCodes.Usage, "--permits takes a semaphore permit: it does not go with --read or --write"),
            (true, _, _) => LockMode.Read,
            (_, _, true) => LockMode.Semaphore,
            _ => LockMode.Exclusive,
        };
        if (write)
        {
            CommonOptions.WarnDeprecated("--write", "the write lock is the exclusive lock, which exec takes without a flag: leave --write out");
        }

        return mode;
    }

    private static async Task<int> RunAsync(
        IReadOnlyList<string> targets, ExecTarget target, LockMode mode, string prefix, TimeSpan ttl, TimeSpan wait, bool killOnLost, bool verbose, string? label,
        int? permits, string[] command, CancellationToken cancellationToken)
    {
        if (command.Length == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            throw new CliException(ExitCodes.Usage, "exec: the command is empty");
        }

        var options = CommonOptions.ManagerOptions(prefix);
        Durations.ApplyTtl(options, ttl, "--ttl");
        try
        {
            options.Defaults.HolderLabel = label ?? DefaultLabel(command);
            options.Defaults.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--label: {ErrorText.Clean(ex.Message)}", ex);
        }

        using var interrupts = new Interrupts();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupts.Token);
        await using var connection = await RedisTargets.ConnectAsync(targets, options, cancel.Token);
        var tell = !Console.IsErrorRedirected || verbose;
        var resource = target.Name;
        var what = permits is not null ? $"the permit of semaphore '{resource}'"
            : target.Names.Count > 1 ? $"the locks on {ExecSet.Quoted(target.Names)}"
            : $"the lock on '{resource}'";
        if (target.Leader)
        {
            // One campaign's try is an acquire and a fencing token, each bounded by the node timeout.
            return await ExecLeader.RunAsync(connection.Locks, resource, wait, options.NodeTimeout * 2, tell, killOnLost, command, interrupts, cancel.Token);
        }

        LockHandle handle;
        try
        {
            handle = permits is { } n
                ? await ExecPermits.AcquireAsync(connection.Locks, resource, n, wait, tell, cancel.Token)
                : await AcquireAsync(connection.Locks, mode, target.Names, wait, tell, cancel.Token);
        }
        catch (OperationCanceledException) when (interrupts.Received is not null)
        {
            return interrupts.ExitCode;
        }
        catch (ArgumentException ex) when (ex.ParamName == "resource")
        {
            // The library's rules for a name (e.g. its length), said about the flag that gave it.
            throw new CliException(ExitCodes.Usage, $"--resource: {ErrorText.Clean(ex.Message)}", ex);
        }

        await using var held = handle;
        long token;
        try
        {
            token = await handle.GetFencingTokenAsync(cancellationToken);
        }
        catch (LockLostException)
        {
            return NotStarted(what, command);
        }

        return await RunWhileHeldAsync(command, Variables(token, resource, handle.HolderId), handle.LostToken, what, killOnLost, interrupts);
    }

    /// <summary>The variables exec's command sees, for a lock and for a term of leadership alike.</summary>
    public static Dictionary<string, string> Variables(long fencingToken, string resource, string holderId) => new()
    {
        [TokenVariable] = fencingToken.ToString(CultureInfo.InvariantCulture),
        ["DISTLOCK_RESOURCE"] = resource,
        ["DISTLOCK_HOLDER_ID"] = holderId,
        // rc.1's name for the same id, kept for the scripts that read it (docs/cli.md).
        ["DISTLOCK_LOCK_ID"] = holderId,
    };

    /// <summary>
    /// Runs the command until it exits, stopping it when <paramref name="lost"/> fires (unless
    /// --on-lost ignore); <paramref name="what"/> names what was lost, "the lock on 'x'". Returns
    /// the command's exit code, or 70 when it was stopped for the loss. What is held is let go by
    /// the caller, after: the command must be gone before anyone else may run it.
    /// </summary>
    public static async Task<int> RunWhileHeldAsync(
        string[] command, IReadOnlyDictionary<string, string> environment, CancellationToken lost, string what, bool killOnLost, Interrupts interrupts)
    {
        if (lost.IsCancellationRequested)
        {
            return NotStarted(what, command);
        }

        using var child = await ChildProcess.StartAsync(command, environment, diesWithDistLock: killOnLost);

        // distlock stays up until the command exits, to let go of what it holds; signals are the command's.
        interrupts.ForwardTo(child.Signal);
        var stopped = 0;
        await using var onLost = lost.Register(() =>
        {
            Interlocked.Exchange(ref stopped, 1);
            Console.Error.WriteLine(killOnLost
                ? $"distlock: lost {what}; stopping {command[0]}"
                : $"distlock: lost {what}; {command[0]} keeps running (--on-lost ignore)");
            if (killOnLost)
            {
                _ = child.StopAsync();
            }
        });

        var exitCode = await child.WaitForExitAsync();
        return Volatile.Read(ref stopped) == 1 && killOnLost ? ExitCodes.LockLost : exitCode;
    }

    private static int NotStarted(string what, string[] command)
    {
        Console.Error.WriteLine($"distlock: lost {what} before {command[0]} started; not started");
        return ExitCodes.LockLost;
    }

    /// <summary>
    /// One attempt first; when the lock is busy and distlock is going to wait, it says once (on a
    /// terminal, or with --verbose) who holds the lock, so a person does not stare at a silent prompt.
    /// Several names are taken together, all or none (ExecSet), and the notice names the busy ones.
    /// </summary>
    private static async Task<LockHandle> AcquireAsync(RedisLockManager locks, LockMode mode, IReadOnlyList<string> names, TimeSpan wait, bool tell, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var resource = names[0];
        var several = names.Count > 1;
        Task<LockHandle?> Try(TimeSpan timeout) => (several, mode) switch
        {
            (true, _) => locks.TryAcquireAllAsync(names, timeout, cancellationToken),
            (_, LockMode.Read) => locks.TryAcquireReadAsync(resource, timeout, cancellationToken),
            _ => locks.TryAcquireAsync(resource, timeout, cancellationToken),
        };
        // A reader is held back by a writer that holds, or that waits (readers do not overtake it).
        var busy = (several, mode) switch
        {
            (true, _) => $"locks {ExecSet.Quoted(names)} are not all free",
            (_, LockMode.Read) => $"lock '{resource}' is held by a writer, or a writer waits for it",
            _ => $"lock '{resource}' is held by someone else",
        };

        try
        {
            if (await Try(TimeSpan.Zero) is { } first)
            {
                return first;
            }

            if (wait == TimeSpan.Zero)
            {
                throw new CliException(ExitCodes.NotAcquired, $"{busy}; not acquired");
            }

            if (tell)
            {
                var holders = several ? await ExecSet.HoldersAsync(locks, names, Holder, cancellationToken) : Holder(await locks.InspectAsync(resource, cancellationToken));
                Console.Error.WriteLine($"distlock: waiting for {(several ? ExecSet.Quoted(names) + " together" : $"'{resource}'")} ({Waiting(wait)}): {holders}");
            }

            var left = wait == Timeout.InfiniteTimeSpan ? wait : TimeSpan.FromTicks(Math.Max(0, (wait - TimeProvider.System.GetElapsedTime(started)).Ticks));
            return await Try(left) ?? throw new LockTimeoutException("not acquired");
        }
        catch (LockTimeoutException)
        {
            var waited = wait == TimeSpan.Zero ? "" : $" within {DurationText.Format(wait)}";
            throw new CliException(ExitCodes.NotAcquired, $"{busy}; not acquired{waited}");
        }
    }

    public static string Waiting(TimeSpan wait) => wait == Timeout.InfiniteTimeSpan ? "no time limit; Ctrl+C gives up" : $"up to {DurationText.Format(wait)}";

    private static string Holder(LockInfo info) => info.HolderId switch
    {
        null when info.Readers.Count > 0 => $"read by {info.Readers.Count} reader(s), the longest lease {LockTable.TtlOf(info)} left, {info.Waiters} waiter(s)",
        null when info.HandingOver > 0 => "it is being handed to the next waiters",
        null => "it was just released",
        _ when info.HandingOver > 0 => "it is being handed to the next waiter",
        _ => $"held by {(info.HolderLabel ?? $"holder id {info.HolderId}")}{LockTable.HeldForOf(info)}, {LockTable.TtlOf(info)} of its TTL left (extended while its holder runs), {info.Waiters} other waiter(s)",
    };

    /// <summary>"host pid 123: command args", cut to the longest label a lock value carries.</summary>
    private static string DefaultLabel(string[] command)
    {
        var text = $"{Environment.MachineName} pid {Environment.ProcessId}: {string.Join(' ', command)}";
        text = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]);
        return text.Length <= AcquireOptions.MaxHolderLabelLength ? text : text[..(AcquireOptions.MaxHolderLabelLength - 3)] + "...";
    }
}
