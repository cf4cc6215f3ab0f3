using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>
/// Issue 27: <c>exec --leader NAME</c> runs its command only while it leads the election NAME, and
/// <c>status --leader NAME</c> shows the leader and its term. Real processes, one real redis-server.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class LeaderTests(RedisFixture redis) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distlock-leader-").FullName;
    private readonly List<Tool> _candidates = [];

    private static string NewName() => "leader-" + Guid.NewGuid().ToString("N")[..8];

    private string Log => Path.Combine(_directory, "log");

    public void Dispose()
    {
        // A failed test leaves its candidates running: kill them before their log goes.
        _candidates.ForEach(c => c.Dispose());
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task TwoCandidates_OneCommandAtATime_AndTheNextStartsAtOnceWhenTheLeadersCommandExits()
    {
        var name = NewName();
        var (first, second, firstPid, firstToken) = await LeaderAndCandidateAsync(name, "10s");

        Assert.Equal(first.Process.Id, firstPid);
        Assert.Single(Lines()); // the second campaigns; its command has not started

        var stopwatch = Stopwatch.StartNew();
        await StopAsync(first, firstPid);
        var (secondPid, secondToken) = await StartedAsync(2);
        var takeover = stopwatch.Elapsed;

        Assert.Equal(second.Process.Id, secondPid);
        Assert.Equal([$"start {firstPid} {firstToken}", $"end {firstPid}", $"start {secondPid} {secondToken}"], Lines());
        // The first resigned: a second that waited for the lease would start 10 s later.
        Assert.True(takeover < TimeSpan.FromSeconds(5), $"the second leader started {takeover} after the first's command was told to exit");
        Assert.True(secondToken > firstToken, $"term tokens {firstToken} then {secondToken}");

        await StopAsync(second, secondPid);
        Assert.Null((await redis.Locks.InspectAsync(name)).HolderId);
    }

    [Fact]
    public async Task LeaderKilled_TheNextTakesOverAfterAboutTheTtl_WithAHigherToken()
    {
        var name = NewName();
        var (first, second, _, firstToken) = await LeaderAndCandidateAsync(name, "3s");

        var stopwatch = Stopwatch.StartNew();
        first.Process.Kill(); // SIGKILL: no resignation, the lease must run out
        var (secondPid, secondToken) = await StartedAsync(2);
        var takeover = stopwatch.Elapsed;

        Assert.Equal(second.Process.Id, secondPid);
        // The lease was renewed a third of the TTL before at most, so about 2 s to 3 s were left of it.
        Assert.True(takeover > TimeSpan.FromSeconds(1) && takeover < TimeSpan.FromSeconds(8), $"the second leader started {takeover} after the first was killed (TTL 3 s)");
        Assert.True(secondToken > firstToken, $"term tokens {firstToken} then {secondToken}");
        await StopAsync(second, secondPid);
    }

    [Fact]
    public async Task SigTerm_GoesToTheCommand_ThenTheLeaderResigns_SoTheNextLeadsAtOnce()
    {
        var name = NewName();
        var (first, second, firstPid, _) = await LeaderAndCandidateAsync(name, "10s");

        var stopwatch = Stopwatch.StartNew();
        Signals.Send(first.Process.Id, 15);
        Assert.Equal(42, await first.WaitAsync()); // the command's trap: it got SIGTERM, exec passed its code on
        var (secondPid, _) = await StartedAsync(2);

        Assert.Equal($"term {firstPid}", Lines()[1]);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"the second leader started {stopwatch.Elapsed} after SIGTERM (TTL 10 s)");
        await StopAsync(second, secondPid);
    }

    [Fact]
    public async Task LeadershipLost_TheCommandIsStopped_AndExecExits70()
    {
        var name = NewName();
        var leader = Candidate(name, "900ms");
        await StartedAsync(1);

        Assert.True(await redis.Locks.ForceReleaseAsync(name)); // the next extension, within 300 ms, is refused

        Assert.Equal(70, await leader.WaitAsync(20));
        Assert.Contains($"distlock: lost the leadership of '{name}'; stopping sh", leader.Stderr, StringComparison.Ordinal);
        Assert.Equal($"term {leader.Process.Id}", Lines()[1]);
    }

    [Fact]
    public async Task InterruptedWhileCampaigning_Exits143_AndTheLeaderKeepsLeading()
    {
        var name = NewName();
        await using var election = redis.Locks.CreateElection(name);
        await using var term = await election.WaitForLeadershipAsync();
        using var candidate = Tool.Start(["exec", "--leader", name, "--", "true"], redis.Endpoint);
        await InLineAsync(name);

        Signals.Send(candidate.Process.Id, 15);

        Assert.Equal(143, await candidate.WaitAsync(20));
        Assert.True(term.IsActive);
        Assert.Equal(term.HolderId, (await redis.Locks.InspectAsync(name)).HolderId);
    }

    [Fact]
    public async Task Wait_BoundsTheCampaign_AndSaysWhoLeads()
    {
        var name = NewName();
        long ledToken;
        await using (var election = redis.Locks.CreateElection(name, new LeaderElectionOptions { HolderLabel = "test leader" }))
        {
            await using var term = await election.WaitForLeadershipAsync();
            ledToken = term.FencingToken;

            using var once = await Tool.RunAsync(["exec", "--leader", name, "--wait", "0", "--", "true"], redis.Endpoint);
            using var briefly = await Tool.RunAsync(["exec", "--leader", name, "--wait", "300ms", "--verbose", "--", "true"], redis.Endpoint);

            Assert.Equal(75, once.ExitCode);
            Assert.Equal($"distlock: election '{name}' has another leader; not elected", once.Stderr.Trim());
            Assert.Equal(75, briefly.ExitCode);
            var lines = briefly.Stderr.Trim().Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith($"distlock: waiting to lead '{name}' (up to 300ms): led by test leader (term {ledToken}), ", lines[0], StringComparison.Ordinal);
            Assert.Equal($"distlock: election '{name}' has another leader; not elected within 300ms", lines[1]);
            Assert.Equal(term.HolderId, (await redis.Locks.InspectAsync(name)).HolderId);
        }

        // Nobody leads now: --wait 0 wins, and the command sees its term as exec's command sees a lock.
        using var free = await Tool.RunAsync(["exec", "--leader", name, "--wait", "0", "--", "sh", "-c", "echo \"$DISTLOCK_FENCING_TOKEN|$DISTLOCK_RESOURCE|$DISTLOCK_HOLDER_ID\"; exit 4"], redis.Endpoint);

        Assert.Equal(4, free.ExitCode);
        var seen = free.Stdout.Trim().Split('|', 2);
        Assert.True(long.Parse(seen[0], CultureInfo.InvariantCulture) > ledToken, $"token {seen[0]} after a term with {ledToken}");
        Assert.StartsWith($"{name}|{Environment.MachineName} pid {free.Process.Id}: sh -c", seen[1], StringComparison.Ordinal);
        Assert.Null((await redis.Locks.InspectAsync(name)).HolderId);
    }

    [Fact]
    public async Task Status_ShowsTheLeaderItsTermAndTheCandidates_TheJsonKeepsTheLocksNames()
    {
        var name = NewName();
        var leader = Candidate(name, "10s");
        var (pid, token) = await StartedAsync(1);
        await using var election = redis.Locks.CreateElection(name);
        var campaign = election.WaitForLeadershipAsync();
        await InLineAsync(name);

        using var view = await Tool.RunAsync(["status", name, "--leader"], redis.Endpoint);
        using var json = await Tool.RunAsync(["status", name, "--leader", "--json"], redis.Endpoint);

        Assert.Equal(0, view.ExitCode);
        var rows = Rows(view.Stdout);
        Assert.Equal(name, rows["election"]);
        Assert.StartsWith($"{Environment.MachineName} pid {pid}: sh -c", rows["leader"], StringComparison.Ordinal);
        Assert.Equal($"{token} (its fencing token)", rows["term"]);
        Assert.Equal("1 waiting", rows["candidates"]);
        Assert.Contains("leader since", rows.Keys);
        var document = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(JsonFields.Lock, document.EnumerateObject().Select(p => p.Name));
        Assert.StartsWith($"{Environment.MachineName} pid {pid}: sh -c", document.GetProperty("holderLabel").GetString(), StringComparison.Ordinal);
        Assert.Equal(token, document.GetProperty("lastFencingToken").GetInt64());
        Assert.Equal(1, document.GetProperty("waiters").GetInt32());

        await StopAsync(leader, pid);
        await using var term = await campaign;
        using var after = await Tool.RunAsync(["status", name, "--leader"], redis.Endpoint);
        Assert.Equal($"{term.FencingToken} (its fencing token)", Rows(after.Stdout)["term"]);
        await term.ResignAsync();
        using var free = await Tool.RunAsync(["status", name, "--leader"], redis.Endpoint);
        Assert.Equal("none", Rows(free.Stdout)["leader"]);
        Assert.Equal($"{term.FencingToken} (its fencing token)", Rows(free.Stdout)["last term"]);
    }

    [Fact]
    public async Task DuringAHandover_NobodyLeadsYet_StatusAndGetLeaderAgree()
    {
        // A stopped candidate at the head of the line cannot claim the turn a resignation reserves
        // for it, so the handover lasts the resigning manager's whole grace.
        var name = NewName();
        await using var locks = await RedisLockManager.ConnectAsync(redis.Endpoint, new RedisLockManagerOptions { HandoffGrace = TimeSpan.FromSeconds(8) });
        await using var election = locks.CreateElection(name);
        var term = await election.WaitForLeadershipAsync();
        using var candidate = Tool.Start(["exec", "--leader", name, "--", "true"], redis.Endpoint);
        await InLineAsync(name);
        await Signals.StopAsync(candidate.Process.Id);
        try
        {
            await term.ResignAsync();

            using var view = await Tool.RunAsync(["status", name, "--leader"], redis.Endpoint);
            var leader = await election.GetLeaderAsync();

            // Still handing over: the checks above ran within the grace. (It failed twice while the
            // test sent SIGSTOP and resigned at once: kill returns before the candidate's last
            // threads stop, and one of them acted on the resignation's wake.)
            var info = await redis.Locks.InspectAsync(name);
            Assert.True(info.HandingOver == 1, $"not handing over: {info}; status said: {view.Stdout}");
            Assert.Equal("(being handed to the next candidate)", Rows(view.Stdout)["leader"]);
            Assert.Null(leader);
        }
        finally
        {
            Signals.Send(candidate.Process.Id, Signals.SigCont);
        }

        Assert.Equal(0, await candidate.WaitAsync());
    }

    [Fact]
    public async Task StatusWatch_OffATerminal_SaysEachNewLeaderAndTerm()
    {
        var name = NewName();
        using var watch = Tool.Start(["status", name, "--leader", "--watch"], redis.Endpoint);
        await WaitForAsync(() => Task.FromResult(watch.Stdout.Contains("leader=none term=0 candidates=0", StringComparison.Ordinal)), "the first line");

        await using var election = redis.Locks.CreateElection(name, new LeaderElectionOptions { HolderLabel = "watched" });
        await using var term = await election.WaitForLeadershipAsync();
        await WaitForAsync(() => Task.FromResult(watch.Stdout.Contains($"leader=watched term={term.FencingToken} candidates=0 remaining-ttl=", StringComparison.Ordinal)), "the leader's line");

        Signals.Send(watch.Process.Id, 15);
        Assert.Equal(0, await watch.WaitAsync(20));
    }

    [Theory]
    [InlineData("distlock: exec needs --resource NAME (run under a lock) or --leader NAME (run while leader of an election)", "exec", "--", "true")]
    [InlineData("distlock: --resource and --leader do not go together: --leader NAME campaigns for the lock NAME itself", "exec", "--leader", "e", "--resource", "e", "--", "true")]
    [InlineData("distlock: --leader does not go with --read: a leader holds the election's lock alone", "exec", "--leader", "e", "--read", "--", "true")]
    [InlineData("distlock: --leader does not go with --permits: a leader holds the election's lock alone", "exec", "--leader", "e", "--permits", "2", "--", "true")]
    [InlineData("distlock: --leader does not go with --write: a leader holds the election's lock alone", "exec", "--leader", "e", "--write", "--", "true")]
    [InlineData("distlock: --leader: a lock name cannot be empty", "exec", "--leader", " ", "--", "true")]
    [InlineData("distlock: --leader and --semaphore do not go together: an election is a lock, a semaphore has no leader", "status", "e", "--leader", "--semaphore")]
    public async Task BadUsage_Exits64_WithOneLineThatSaysWhy_NothingLocked(string expected, params string[] arguments)
    {
        using var tool = await Tool.RunAsync(arguments, redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
        Assert.Equal(0, (await redis.Locks.InspectAsync("e")).LastFencingToken);
    }

    /// <summary>
    /// exec --leader over a command that logs "start {distlock's pid} {token}", then waits for its
    /// stop file (exit 3) or SIGTERM (logs "term", exit 42), and ends by itself when its distlock is
    /// gone. The test class disposes it.
    /// </summary>
    private Tool Candidate(string name, string ttl)
    {
        var candidate = Tool.Start(
            ["exec", "--leader", name, "--ttl", ttl, "--", "sh", "-c",
                $"echo \"start $PPID $DISTLOCK_FENCING_TOKEN\" >> {Log}; trap 'echo \"term $PPID\" >> {Log}; exit 42' TERM; "
                + $"while [ ! -f {_directory}/stop-$PPID ] && kill -0 $PPID 2>/dev/null; do sleep 0.05; done; echo \"end $PPID\" >> {Log}; exit 3"],
            redis.Endpoint);
        _candidates.Add(candidate);
        return candidate;
    }

    /// <summary>A leader (its distlock's pid and its term's token, from the log) and a second candidate in the election's line behind it.</summary>
    private async Task<(Tool Leader, Tool Candidate, int LeaderPid, long LeaderToken)> LeaderAndCandidateAsync(string name, string ttl)
    {
        var leader = Candidate(name, ttl);
        var (pid, token) = await StartedAsync(1);
        var candidate = Candidate(name, ttl);
        await InLineAsync(name);
        return (leader, candidate, pid, token);
    }

    /// <summary>Waits until one candidate waits in the election's line.</summary>
    private Task InLineAsync(string name) =>
        WaitForAsync(async () => (await redis.Locks.InspectAsync(name)).Waiters == 1, $"a candidate in the line of '{name}'");

    /// <summary>Tells a leader's command to exit by itself (exit 3), which exec passes on.</summary>
    private async Task StopAsync(Tool leader, int pid)
    {
        await File.WriteAllTextAsync(Stop(pid), "");
        Assert.Equal(3, await leader.WaitAsync());
    }

    private string Stop(int pid) => Path.Combine(_directory, $"stop-{pid}");

    private string[] Lines() => File.Exists(Log) ? File.ReadAllLines(Log) : [];

    /// <summary>Waits for the log's <paramref name="count"/>th line, a leader's start, and returns its distlock pid and token.</summary>
    private async Task<(int Pid, long Token)> StartedAsync(int count)
    {
        await WaitForAsync(() => Task.FromResult(Lines().Count(l => l.StartsWith("start ", StringComparison.Ordinal)) >= count), $"start number {count}");
        var line = Lines().Where(l => l.StartsWith("start ", StringComparison.Ordinal)).ElementAt(count - 1).Split(' ');
        return (int.Parse(line[1], CultureInfo.InvariantCulture), long.Parse(line[2], CultureInfo.InvariantCulture));
    }

    /// <summary>Polls every 20 ms, up to 30 s: starting a tool process takes seconds on a busy machine.</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"waited 30 s for {what}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The field and value of each row of a status table (Spectre's box drawing; a long value wraps onto rows without a field).</summary>
    private static Dictionary<string, string> Rows(string table)
    {
        var rows = new Dictionary<string, string>();
        var field = "";
        foreach (var cells in table.Split('\n').Select(line => line.Split('│', StringSplitOptions.TrimEntries)).Where(cells => cells.Length == 4))
        {
            field = cells[1].Length > 0 ? cells[1] : field;
            rows[field] = rows.TryGetValue(field, out var start) ? $"{start} {cells[2]}" : cells[2];
        }

        return rows;
    }
}
