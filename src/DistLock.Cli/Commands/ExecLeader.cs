using System.CommandLine;

namespace DistLock.Cli.Commands;

/// <summary>
/// What exec runs under: the lock <c>--resource</c> names (or the locks, when it is repeated: see
/// <see cref="ExecSet"/>), or the election <c>--leader</c> names (its lock).
/// </summary>
internal sealed record ExecTarget(IReadOnlyList<string> Names, bool Leader)
{
    /// <summary>The name, or a set's names joined by ", " as <see cref="LockHandle.Resource"/> joins them.</summary>
    public string Name => string.Join(", ", Names);
}

/// <summary>
/// <c>distlock exec --leader NAME</c>: campaign in the election NAME and run the command only while
/// leader. One term per run: a lost term stops the command and exits 70 without campaigning again,
/// as a lost lock does (a supervisor that restarts distlock decides whether and when to try again,
/// as it would for any service that failed); a command that exits resigns the term, so the next
/// candidate takes over at once instead of after the lease.
/// </summary>
internal static class ExecLeader
{
    public static Option<string> Option() => new("--leader")
    {
        HelpName = "name",
        Description = "Campaign in the election NAME (the lock NAME) and run the command only while leader: it is stopped if leadership is lost, and its exit resigns",
    };

    /// <summary>
    /// The locks or election the flags name; --resource (once or more) or --leader, not both, and
    /// --leader alone among the kinds of hold.
    /// </summary>
    public static ExecTarget Target(IReadOnlyList<string> resources, string? leader, bool read, bool write, bool permits)
    {
        if (leader is null)
        {
            return resources.Count == 0
                ? throw new CliException(ExitCodes.Usage, "exec needs --resource NAME (run under a lock) or --leader NAME (run while leader of an election)")
                : new ExecTarget(ExecSet.Names(resources, read, permits), Leader: false);
        }

        if (resources.Count > 0)
        {
            throw new CliException(ExitCodes.Usage, "--resource and --leader do not go together: --leader NAME campaigns for the lock NAME itself");
        }

        var other = read ? "--read" : permits ? "--permits" : write ? "--write" : null;
        return other is not null
            ? throw new CliException(ExitCodes.Usage, $"--leader does not go with {other}: a leader holds the election's lock alone")
            : new ExecTarget([CommonOptions.ResourceName(leader, "--leader")], Leader: true);
    }

    /// <summary>
    /// Campaigns, runs the command as leader, resigns when it exits. <paramref name="oneTry"/> is how
    /// long a campaign may take when --wait 0 finds nobody leading: a try and its fencing token.
    /// </summary>
    public static async Task<int> RunAsync(
        RedisLockManager locks, string name, TimeSpan wait, TimeSpan oneTry, bool tell, bool killOnLost, string[] command, Interrupts interrupts, CancellationToken cancellationToken)
    {
        LeaderElection created;
        try
        {
            created = locks.CreateElection(name);
        }
        catch (ArgumentException ex) when (ex.ParamName == "name")
        {
            throw new CliException(ExitCodes.Usage, $"--leader: {ErrorText.Clean(ex.Message)}", ex);
        }

        await using var election = created;
        LeadershipTerm term;
        try
        {
            term = await CampaignAsync(locks, election, wait, oneTry, tell, cancellationToken);
        }
        catch (OperationCanceledException) when (interrupts.Received is not null)
        {
            return interrupts.ExitCode;
        }

        // Disposing the term resigns it, once the command is gone: the next candidate is woken at once.
        await using (term)
        {
            var variables = ExecCommand.Variables(term.FencingToken, name, term.HolderId);
            return await ExecCommand.RunWhileHeldAsync(command, variables, term.Lost, $"the leadership of '{name}'", killOnLost, interrupts);
        }
    }

    /// <summary>
    /// Campaigns within --wait. The election has no timeout of its own, so --wait is a cancellation:
    /// with 0, a leader seen first means not elected at once, and with nobody leading the campaign
    /// gets one try's time. When it is going to wait, it says once (on a terminal, or with
    /// --verbose) who leads, as exec does for a lock.
    /// </summary>
    private static async Task<LeadershipTerm> CampaignAsync(
        RedisLockManager locks, LeaderElection election, TimeSpan wait, TimeSpan oneTry, bool tell, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var info = await locks.InspectAsync(election.Name, cancellationToken);
        var led = info.HolderId is not null || info.Readers.Count > 0;
        if (led && wait == TimeSpan.Zero)
        {
            throw NotElected(election.Name, "");
        }

        if (led && tell)
        {
            Console.Error.WriteLine($"distlock: waiting to lead '{election.Name}' ({ExecCommand.Waiting(wait)}): {LeaderView.Summary(info)}");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (wait != Timeout.InfiniteTimeSpan)
        {
            var left = wait - TimeProvider.System.GetElapsedTime(started);
            deadline.CancelAfter(wait == TimeSpan.Zero ? oneTry : left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }

        try
        {
            return await election.WaitForLeadershipAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw NotElected(election.Name, wait == TimeSpan.Zero ? "" : $" within {DurationText.Format(wait)}");
        }
    }

    private static CliException NotElected(string name, string within) =>
        new(ExitCodes.NotAcquired, $"election '{name}' has another leader; not elected{within}");
}
