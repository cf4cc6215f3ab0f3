using System.CommandLine;
using Spectre.Console;

namespace DistLock.Cli.Commands;

/// <summary><c>distlock status</c>, <c>list</c> and <c>release</c>: look at locks and clear a stuck one.</summary>
internal static class InspectCommands
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(500);

    public static Command Status()
    {
        var redis = CommonOptions.Redis();
        var prefix = CommonOptions.Prefix();
        var json = CommonOptions.Json();
        var watch = new Option<bool>("--watch", "-w") { Description = "Keep the view up to date (twice a second) until Ctrl+C" };
        var semaphore = new Option<bool>("--semaphore", "-s") { Description = "Show the semaphore of that name (exec --permits): its holders and free permits" };
        var leader = new Option<bool>("--leader", "-l")
        {
            Description = "Show the lock as an election (exec --leader): the leader, since when, its term (fencing token), the candidates; --json is the same object",
        };
        var names = new Argument<string[]>("name")
        {
            Description = "The lock's resource name; give several to see them side by side, and which are held together",
            Arity = ArgumentArity.OneOrMore,
        };
        var status = new Command("status", CommonOptions.Describe(
            "Show a lock: state, holder, remaining TTL, last fencing token, waiters (several: which are held together)",
            "distlock status nightly-backup",
            "distlock status nightly-backup --json | jq .remainingTtlMs",
            "distlock status nightly-backup --watch",
            "distlock status --semaphore encoders",
            "distlock status --leader reports           # who leads the election 'reports', in which term",
            "distlock status account:17 account:42 --json     # an array; heldWith names the others one holder holds too"))
        {
            redis, prefix, json, watch, semaphore, leader, names,
        };
        status.SetAction(async (parse, cancellationToken) =>
        {
            var given = parse.GetValue(names) ?? [];
            var resources = given.Select(n => CommonOptions.ResourceName(n, "status")).Distinct(StringComparer.Ordinal).ToList();
            var resource = resources[0];
            var several = given.Length > 1;
            LockSetView.Check(several, parse.GetValue(watch), parse.GetValue(semaphore), parse.GetValue(leader));
            var targets = RedisTargets.Resolve(parse.GetValue(redis));
            if (parse.GetValue(watch) && parse.GetValue(json))
            {
                throw new CliException(ExitCodes.Usage, "--watch and --json do not go together (poll status --json instead)");
            }

            var asElection = parse.GetValue(leader);
            if (asElection && parse.GetValue(semaphore))
            {
                throw new CliException(ExitCodes.Usage, "--leader and --semaphore do not go together: an election is a lock, a semaphore has no leader");
            }

            await using var connection = await RedisTargets.ConnectAsync(targets, CommonOptions.ManagerOptions(parse.GetValue(prefix)!), cancellationToken);
            var locks = connection.Locks;
            if (several)
            {
                return await LockSetView.ShowAsync(locks, resources, parse.GetValue(json), cancellationToken);
            }

            if (parse.GetValue(semaphore))
            {
                return await SemaphoreStatusAsync(locks, resource, parse.GetValue(json), parse.GetValue(watch), cancellationToken);
            }

            if (parse.GetValue(watch))
            {
                return await WatchLockAsync(locks, resource, asElection, cancellationToken);
            }

            var info = await locks.InspectAsync(resource, cancellationToken);
            if (parse.GetValue(json))
            {
                // The same fields with --leader: the leader is holderLabel/holderId, its term lastFencingToken.
                LockJson.Print(info, locks.NodeCount);
            }
            else if (asElection)
            {
                AnsiConsole.Write(LeaderView.Details(info, locks.NodeCount));
            }
            else
            {
                AnsiConsole.Write(LockTable.Details(info, locks.NodeCount));
                await HintAtTheSemaphoreAsync(locks, info, cancellationToken);
            }

            return ExitCodes.Success;
        });
        return status;
    }

    /// <summary>
    /// A free lock whose name a semaphore uses (exec --permits) says so on stderr: the two are
    /// different things, and a user who took permits and asks for the lock would be puzzled.
    /// </summary>
    private static async Task HintAtTheSemaphoreAsync(RedisLockManager locks, LockInfo info, CancellationToken cancellationToken)
    {
        if (info.HolderId is not null || info.Readers.Count > 0 || info.HandingOver > 0 || locks.NodeCount > 1)
        {
            return;
        }

        var semaphore = await locks.InspectSemaphoreAsync(info.Resource, cancellationToken);
        if (semaphore.Holders.Count > 0)
        {
            Console.Error.WriteLine(
                $"distlock: the lock '{info.Resource}' is free, but the semaphore of that name has {semaphore.Holders.Count} holder(s): distlock status --semaphore {info.Resource}");
        }
    }

    public static Command List()
    {
        var redis = CommonOptions.Redis();
        var prefix = CommonOptions.Prefix();
        var json = CommonOptions.Json();
        var pattern = new Argument<string>("pattern") { Description = "A glob over resource names (*, ?, [abc])", DefaultValueFactory = _ => "*" };
        var list = new Command("list", CommonOptions.Describe(
            "List the locks that exist now (SCAN on every node, never KEYS)",
            "distlock list",
            "distlock list 'nightly-*' --json"))
        {
            redis, prefix, json, pattern,
        };
        list.SetAction(async (parse, cancellationToken) =>
        {
            var targets = RedisTargets.Resolve(parse.GetValue(redis));
            await using var connection = await RedisTargets.ConnectAsync(targets, CommonOptions.ManagerOptions(parse.GetValue(prefix)!), cancellationToken);
            var locks = connection.Locks;
            var found = new List<LockInfo>();
            await foreach (var info in locks.ListAsync(parse.GetValue(pattern)!, cancellationToken))
            {
                found.Add(info);
            }

            var sorted = found.OrderBy(l => l.Resource, StringComparer.Ordinal).ToList();
            if (parse.GetValue(json))
            {
                LockJson.Print(sorted, locks.NodeCount);
            }
            else if (sorted.Count == 0)
            {
                AnsiConsole.WriteLine("no locks");
            }
            else
            {
                AnsiConsole.Write(LockTable.List(sorted));
            }

            return ExitCodes.Success;
        });
        return list;
    }

    public static Command Release()
    {
        var redis = CommonOptions.Redis();
        var prefix = CommonOptions.Prefix();
        var name = new Argument<string>("name") { Description = "The lock's resource name" };
        var force = new Option<bool>("--force") { Description = "Required: the lock is deleted whoever holds it" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        var semaphore = new Option<bool>("--semaphore", "-s") { Description = "Free the permits of the semaphore of that name (exec --permits) instead" };
        var holder = new Option<string?>("--holder-id") { Description = "With --semaphore: free only the permit of this holder (a holderId that status --semaphore --json shows)" };
        var oldHolder = CommonOptions.Deprecated<string?>("--holder");
        var release = new Command("release", CommonOptions.Describe(
            "Delete a stuck lock, whoever holds it, and wake the next waiter",
            "distlock release nightly-backup --force",
            "distlock release nightly-backup --force --yes",
            "distlock release --semaphore encoders --holder-id 3f2a... --force"))
        {
            redis, prefix, name, force, yes, semaphore, holder, oldHolder,
        };
        release.SetAction(async (parse, cancellationToken) =>
        {
            var resource = CommonOptions.ResourceName(parse.GetValue(name), "release");
            if (!parse.GetValue(force))
            {
                throw new CliException(ExitCodes.Usage, "release deletes the lock whoever holds it: add --force to do that");
            }

            var holderId = HolderId(parse.GetValue(holder), parse.GetValue(oldHolder));
            if (holderId is not null && (!parse.GetValue(semaphore) || string.IsNullOrWhiteSpace(holderId)))
            {
                throw new CliException(ExitCodes.Usage, "--holder-id names a holder of a semaphore: use it with --semaphore, and not empty");
            }

            var targets = RedisTargets.Resolve(parse.GetValue(redis));
            await using var connection = await RedisTargets.ConnectAsync(targets, CommonOptions.ManagerOptions(parse.GetValue(prefix)!), cancellationToken);
            var locks = connection.Locks;
            if (parse.GetValue(semaphore))
            {
                return await ReleaseSemaphoreAsync(locks, resource, holderId, parse.GetValue(yes), cancellationToken);
            }

            var info = await locks.InspectAsync(resource, cancellationToken);
            if (info is { HolderId: null, Readers.Count: 0, HandingOver: 0 })
            {
                AnsiConsole.WriteLine($"lock '{resource}' is not held");
                return ExitCodes.Success;
            }

            if (!parse.GetValue(yes) && !Confirm($"Delete lock '{resource}' held by {LockTable.HolderOf(info)} ({LockTable.TtlOf(info)} left)? [y/N] "))
            {
                Console.Error.WriteLine("distlock: not released");
                return ExitCodes.Failure;
            }

            var deleted = await locks.ForceReleaseAsync(resource, cancellationToken);
            AnsiConsole.WriteLine(deleted ? $"released '{resource}'" : $"lock '{resource}' was gone already");
            return ExitCodes.Success;
        });
        return release;
    }

    /// <summary>--holder-id, or rc.1's --holder for it (with a warning); not both.</summary>
    private static string? HolderId(string? holderId, string? deprecated)
    {
        if (deprecated is null)
        {
            return holderId;
        }

        if (holderId is not null)
        {
            throw new CliException(ExitCodes.Usage, "--holder is the old name of --holder-id: give only --holder-id");
        }

        CommonOptions.WarnDeprecated("--holder", "use --holder-id");
        return deprecated;
    }

    /// <summary>release --semaphore: frees one holder's permit, or every holder's, after asking.</summary>
    private static async Task<int> ReleaseSemaphoreAsync(RedisLockManager locks, string resource, string? holderId, bool yes, CancellationToken cancellationToken)
    {
        var info = await InspectSemaphoreAsync(locks, resource, cancellationToken);

        var freeing = info.Holders.Where(h => holderId is null || h.HolderId == holderId).ToList();
        if (freeing.Count == 0)
        {
            AnsiConsole.WriteLine(holderId is null ? $"semaphore '{resource}' has no holder" : $"semaphore '{resource}' has no holder {holderId}");
            return ExitCodes.Success;
        }

        var who = string.Join(", ", freeing.Select(h => h.HolderLabel ?? h.HolderId));
        if (!yes && !Confirm($"Free {freeing.Count} permit(s) of semaphore '{resource}' held by {who}? [y/N] "))
        {
            Console.Error.WriteLine("distlock: not released");
            return ExitCodes.Failure;
        }

        var freed = await locks.ForceReleaseSemaphoreAsync(resource, holderId, cancellationToken);
        AnsiConsole.WriteLine(freed > 0 ? $"freed {freed} permit(s) of '{resource}'" : $"semaphore '{resource}': the permit(s) were given back already");
        return ExitCodes.Success;
    }

    /// <summary>The semaphore's state; over several masters (Redlock), where semaphores are refused, a usage error.</summary>
    private static async Task<SemaphoreInfo> InspectSemaphoreAsync(RedisLockManager locks, string resource, CancellationToken cancellationToken)
    {
        try
        {
            return await locks.InspectSemaphoreAsync(resource, cancellationToken);
        }
        catch (NotSupportedException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--semaphore: {ErrorText.Clean(ex.Message)}", ex);
        }
    }

    /// <summary>status --semaphore: one view, or a live one with --watch.</summary>
    private static async Task<int> SemaphoreStatusAsync(RedisLockManager locks, string resource, bool json, bool watch, CancellationToken cancellationToken)
    {
        var info = await InspectSemaphoreAsync(locks, resource, cancellationToken);

        if (watch)
        {
            return await WatchAsync(info, token => locks.InspectSemaphoreAsync(resource, token), SemaphoreView.Line, i => $"remaining-ttl={SemaphoreView.TtlOf(i)}", SemaphoreView.Details, cancellationToken);
        }

        if (json)
        {
            SemaphoreView.Print(info);
        }
        else
        {
            AnsiConsole.Write(SemaphoreView.Details(info));
        }

        return ExitCodes.Success;
    }

    /// <summary>status --watch of a lock, in election words with --leader.</summary>
    private static async Task<int> WatchLockAsync(RedisLockManager locks, string resource, bool asElection, CancellationToken cancellationToken) =>
        await WatchAsync(
            await locks.InspectAsync(resource, cancellationToken),
            token => locks.InspectAsync(resource, token),
            asElection ? LeaderView.Line : info => $"{LockTable.StateOf(info)} holder={LockTable.HolderOf(info)} last-fencing-token={info.LastFencingToken} waiters={info.Waiters}",
            info => $"remaining-ttl={LockTable.TtlOf(info)}",
            info => asElection ? LeaderView.Details(info, locks.NodeCount) : LockTable.Details(info, locks.NodeCount),
            cancellationToken);

    /// <summary>
    /// status --watch: a live view on a terminal; off a terminal, one plain line per change of
    /// <paramref name="line"/> (what counts as a change), followed by <paramref name="suffix"/>
    /// (what changes all the time, as a TTL). Runs until SIGINT or SIGTERM, then exits 0
    /// (stopping a watch is how it is meant to end).
    /// </summary>
    private static async Task<int> WatchAsync<T>(
        T first, Func<CancellationToken, Task<T>> read, Func<T, string> line, Func<T, string> suffix, Func<T, Spectre.Console.Rendering.IRenderable> render, CancellationToken cancellationToken)
    {
        using var interrupts = new Interrupts();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupts.Token);
        try
        {
            if (Console.IsOutputRedirected)
            {
                var last = string.Empty;
                var info = first;
                while (true)
                {
                    var current = line(info);
                    if (current != last)
                    {
                        Console.WriteLine($"{TimeProvider.System.GetUtcNow():HH:mm:ss} {current} {suffix(info)}");
                        last = current;
                    }

                    await Task.Delay(WatchInterval, stop.Token);
                    info = await read(stop.Token);
                }
            }

            await AnsiConsole.Live(render(first)).StartAsync(async live =>
            {
                while (true)
                {
                    await Task.Delay(WatchInterval, stop.Token);
                    live.UpdateTarget(render(await read(stop.Token)));
                }
            });
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: the watch is over.
        }

        return ExitCodes.Success;
    }

    // Reads the answer from stdin, so that a script can pipe "y" in; anything but y/yes declines.
    private static bool Confirm(string question)
    {
        Console.Error.Write(question);
        var answer = Console.ReadLine()?.Trim().ToLowerInvariant();
        if (Console.IsInputRedirected)
        {
            // No terminal echoed the answer and its Enter: end the question's line, or the next
            // message ("distlock: not released") would run on after "[y/N] ".
            Console.Error.WriteLine();
        }

        return answer is "y" or "yes";
    }
}
