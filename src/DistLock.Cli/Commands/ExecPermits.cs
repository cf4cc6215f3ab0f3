using System.CommandLine;

namespace DistLock.Cli.Commands;

/// <summary><c>distlock exec --permits N</c>: run the command holding one of N permits of a semaphore instead of the lock.</summary>
internal static class ExecPermits
{
    public static Option<int?> Option() => new("--permits")
    {
        Description = "Take one of N permits of the semaphore named by --resource instead of the lock: up to N commands run at once",
    };

    /// <summary>The --permits value, checked: null without the flag.</summary>
    public static int? Parse(int? permits) => permits is < 1
        ? throw new CliException(ExitCodes.Usage, "--permits: must be at least 1")
        : permits;

    /// <summary>
    /// One attempt first; when every permit is taken and distlock is going to wait, it says once
    /// (on a terminal, or with --verbose) who holds them, as exec does for a lock.
    /// </summary>
    public static async Task<LockHandle> AcquireAsync(RedisLockManager locks, string resource, int permits, TimeSpan wait, bool tell, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            if (await locks.TryAcquireSemaphoreAsync(resource, permits, TimeSpan.Zero, cancellationToken) is { } first)
            {
                return first;
            }

            if (wait == TimeSpan.Zero)
            {
                throw NotAcquired(resource, permits, "");
            }

            if (tell)
            {
                var info = await locks.InspectSemaphoreAsync(resource, cancellationToken);
                var holders = string.Join(", ", info.Holders.Select(h => h.HolderLabel ?? h.HolderId));
                Console.Error.WriteLine($"distlock: waiting for a permit of '{resource}' ({info.Holders.Count} of {permits} held by {holders}; {info.Waiters} other waiter(s))");
            }

            var left = wait == Timeout.InfiniteTimeSpan ? wait : TimeSpan.FromTicks(Math.Max(0, (wait - TimeProvider.System.GetElapsedTime(started)).Ticks));
            return await locks.AcquireSemaphoreAsync(resource, permits, left, cancellationToken);
        }
        catch (LockTimeoutException)
        {
            throw NotAcquired(resource, permits, wait == TimeSpan.Zero ? "" : $" within {DurationText.Format(wait)}");
        }
        catch (ArgumentException ex) when (ex.ParamName == "maxCount")
        {
            // In the tool's words (--permits, the resource), not the library's (maxCount, the key).
            var current = (await locks.InspectSemaphoreAsync(resource, cancellationToken)).MaxCount;
            throw new CliException(ExitCodes.Usage, current > 0 && current != permits
                ? $"--permits: semaphore '{resource}' is held with --permits {current}, not {permits}; every user must pass the same N while it has holders (a new N takes effect once none is left)"
                : $"--permits: {ErrorText.Clean(ex.Message)}", ex);
        }
        catch (NotSupportedException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--permits: {ErrorText.Clean(ex.Message)}", ex);
        }
    }

    private static CliException NotAcquired(string resource, int permits, string within) =>
        new(ExitCodes.NotAcquired, $"all {permits} permits of '{resource}' are held; not acquired{within}");
}
