using System.CommandLine;
using Spectre.Console;

namespace DistLock.Cli.Commands;

/// <summary><c>distlock status</c>, <c>list</c> and <c>release</c>: look at locks and clear a stuck one.</summary>
internal static class InspectCommands
{
    public static Command Status()
    {
        var redis = CommonOptions.Redis();
        var prefix = CommonOptions.Prefix();
        var name = new Argument<string>("name") { Description = "The lock's resource name" };
        var status = new Command("status", "Show a lock: holder, remaining TTL, fencing counter, waiters") { redis, prefix, name };
        status.SetAction(async (parse, cancellationToken) =>
        {
            var targets = RedisTargets.Resolve(parse.GetValue(redis));
            await using var locks = await RedisTargets.ConnectAsync(targets, CommonOptions.LockOptions(parse.GetValue(prefix)!), cancellationToken);
            var info = await locks.InspectAsync(parse.GetValue(name)!, cancellationToken);
            AnsiConsole.Write(LockTable.Details(info, locks.NodeCount));
            return ExitCodes.Success;
        });
        return status;
    }

    public static Command List()
    {
        var redis = CommonOptions.Redis();
        var prefix = CommonOptions.Prefix();
        var pattern = new Argument<string>("pattern") { Description = "A glob over resource names (*, ?, [abc])", DefaultValueFactory = _ => "*" };
        var list = new Command("list", "List the locks that exist now (SCAN, never KEYS)") { redis, prefix, pattern };
        list.SetAction(async (parse, cancellationToken) =>
        {
            var targets = RedisTargets.Resolve(parse.GetValue(redis));
            await using var locks = await RedisTargets.ConnectAsync(targets, CommonOptions.LockOptions(parse.GetValue(prefix)!), cancellationToken);
            var found = new List<LockInfo>();
            await foreach (var info in locks.ListAsync(parse.GetValue(pattern)!, cancellationToken))
            {
                found.Add(info);
            }

            if (found.Count == 0)
            {
                AnsiConsole.WriteLine("no locks");
                return ExitCodes.Success;
            }

            AnsiConsole.Write(LockTable.List(found.OrderBy(l => l.Resource, StringComparer.Ordinal)));
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
        var release = new Command("release", "Delete a stuck lock, whoever holds it, and wake the next waiter") { redis, prefix, name, force, yes };
        release.SetAction(async (parse, cancellationToken) =>
        {
            var resource = parse.GetValue(name)!;
            if (!parse.GetValue(force))
            {
                throw new CliException(ExitCodes.Usage, "release deletes the lock whoever holds it: add --force to do that");
            }

            var targets = RedisTargets.Resolve(parse.GetValue(redis));
            await using var locks = await RedisTargets.ConnectAsync(targets, CommonOptions.LockOptions(parse.GetValue(prefix)!), cancellationToken);
            var info = await locks.InspectAsync(resource, cancellationToken);
            if (info.Holder is null)
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

    // Reads the answer from stdin, so that a script can pipe "y" in; anything but y/yes declines.
    private static bool Confirm(string question)
    {
        Console.Error.Write(question);
        var answer = Console.ReadLine()?.Trim().ToLowerInvariant();
        return answer is "y" or "yes";
    }
}
