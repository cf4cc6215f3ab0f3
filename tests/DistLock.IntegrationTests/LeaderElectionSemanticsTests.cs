using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests;

/// <summary>
/// Leader election on every topology (issue 27), each candidate on a manager of its own, as a
/// process would be: one leader at a time, a resignation handed over at once (the next candidate
/// is woken, it does not poll), a crashed leader replaced when its lease runs out, a token per term
/// that a fenced store judges the deposed leader by, the leader's label, candidates served in the
/// order they came; and the hosted service (<c>AddLeaderService</c>) in real hosts: one runs the
/// work, a graceful shutdown hands it over, work that fails is logged and restarted after its
/// delay, the health entry says who leads. The matrix is in TestMatrix.cs.
/// </summary>
/// <remarks>
/// The lease is 10 s here, so a hand-over that waited for it, or a candidate that polled at its
/// pace, would show as seconds; a crash is waited out on a shorter one. The handover grace is 1 s,
/// as in the patient suites: a woken candidate claims its turn within it on a loaded machine.
/// </remarks>
public abstract class LeaderElectionSemanticsTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    // Long enough that half of it is clearly more than a hand-over, short enough to wait out.
    private static readonly TimeSpan CrashTtl = TimeSpan.FromSeconds(6);

    // What a crash may take beyond the lease on a loaded 2-core machine: a wake, an attempt, a grace.
    private static readonly TimeSpan CrashMargin = TimeSpan.FromSeconds(5);

    private readonly ILockTopology _topology;
    private readonly ITestOutputHelper _output;

    protected LeaderElectionSemanticsTests(ILockTopology topology, ITestOutputHelper output)
    {
        _topology = topology;
        _output = output;
    }

    private static string NewName() => "elect-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task FiveCandidates_OneLeadsAtATime_EachTermWithAHigherToken_AndEachGetsATurn()
    {
        var name = NewName();
        var candidates = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => CandidateAsync(name, $"candidate-{i}")));
        var leading = 0;
        var terms = new List<(int Candidate, long Token, int Leaders, int Leading)>();
        using var enough = new CancellationTokenSource();

        async Task CampaignAsync(int i)
        {
            try
            {
                await foreach (var term in candidates[i].Election.TermsAsync(enough.Token))
                {
                    await using (term)
                    {
                        var now = Interlocked.Increment(ref leading);
                        lock (terms)
                        {
                            terms.Add((i, term.FencingToken, candidates.Count(c => c.Election.IsLeader), now));

                            // Until every candidate has led, not just for 15 terms: a candidate slow to
                            // make its first attempt (over three nodes, on a loaded machine) once missed
                            // all 15, which took 340 ms, while the other four took turns. One that never
                            // gets a turn still fails the test, by its patience.
                            if (terms.Count >= 15 && terms.Select(t => t.Candidate).Distinct().Count() == 5)
                            {
                                enough.Cancel();
                            }
                        }

                        await Task.Delay(20); // time must pass while leading: a second leader meanwhile would count itself in
                        Interlocked.Decrement(ref leading);
                    }
                }
            }
            catch (OperationCanceledException) when (enough.IsCancellationRequested)
            {
                // Enough terms: this candidate stops campaigning.
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, 5).Select(CampaignAsync)).WaitAsync(Eventually.Patience);
        }
        finally
        {
            await DisposeAllAsync(candidates);
        }

        _output.WriteLine("terms: " + string.Join(", ", terms.Select(t => $"{t.Candidate}:{t.Token}")));
        Assert.All(terms, t => Assert.Equal(1, t.Leading));
        Assert.All(terms, t => Assert.Equal(1, t.Leaders));
        Assert.All(terms.Zip(terms.Skip(1)), p => Assert.True(p.Second.Token > p.First.Token, $"term {p.Second.Token} came after term {p.First.Token}"));

        // A candidate that resigns campaigns again at the back of the line, so the five take turns.
        Assert.Equal(5, terms.Select(t => t.Candidate).Distinct().Count());
    }

    [Theory]
    [InlineData("resign")]
    [InlineData("dispose the term")]
    [InlineData("dispose the election")]
    public async Task LeaderStepsDown_TheNextCandidateLeadsAtOnce_NotAfterTheLease(string how)
    {
        var name = NewName();
        await using var a = await CandidateAsync(name, "a");
        await using var b = await CandidateAsync(name, "b");
        var first = await a.Election.WaitForLeadershipAsync();
        var waiting = b.Election.WaitForLeadershipAsync();
        await InLineAsync(name, 1);

        var stopwatch = Stopwatch.StartNew();
        switch (how)
        {
            case "resign": Assert.True(await first.ResignAsync()); break;
            case "dispose the term": await first.DisposeAsync(); break;
            default: await a.Election.DisposeAsync(); break;
        }

        var second = await waiting.WaitAsync(Eventually.Patience);
        var handover = stopwatch.Elapsed;

        _output.WriteLine($"{how}: the next candidate led {handover.TotalMilliseconds:F1} ms later (lease {Ttl.TotalSeconds} s)");
        Assert.True(handover < Ttl / 2, $"handed over after {handover}: the next candidate was not woken");
        Assert.True(first.Lost.IsCancellationRequested);
        Assert.False(a.Election.IsLeader);
        Assert.True(b.Election.IsLeader);
        Assert.True(second.FencingToken > first.FencingToken);
    }

    [Fact]
    public async Task CrashedLeader_IsReplacedWhenItsLeaseRunsOut()
    {
        var name = NewName();

        // A process that dies releases nothing and extends nothing (AutoReleaseOnDispose is off by
        // default), and resigns nothing: its election is never disposed.
        var crashing = await _topology.ConnectAsync(ManagerOptions());
        var crashed = await crashing.CreateElection(name, new LeaderElectionOptions { Ttl = CrashTtl }).WaitForLeadershipAsync();
        await using var survivor = await CandidateAsync(name, "survivor", CrashTtl);
        var waiting = survivor.Election.WaitForLeadershipAsync();
        await InLineAsync(name, 1);

        // Started before the lease is read: the leader's key lives at least that long after it.
        var stopwatch = Stopwatch.StartNew();
        var lease = (await survivor.Election.GetLeaderAsync())?.RemainingTtl ?? throw new InvalidOperationException("no leader to crash");
        await crashing.DisposeAsync();
        var next = await waiting.WaitAsync(Eventually.Patience);
        var failover = stopwatch.Elapsed;

        _output.WriteLine($"crashed leader replaced after {failover.TotalMilliseconds:F0} ms (lease {CrashTtl.TotalSeconds} s, {lease.TotalMilliseconds:F0} ms of it left at the crash)");
        Assert.True(crashed.Lost.IsCancellationRequested);
        // Not before the lease it had when read (a few ms of rounding and drift aside), whenever its
        // last extension ran.
        Assert.InRange(failover, lease - TimeSpan.FromMilliseconds(50), CrashTtl + CrashMargin);
        Assert.True(next.FencingToken > crashed.FencingToken);
    }

    [Fact]
    public async Task DeposedLeader_TokensRisePerTerm_AndTheFencedStoreRefusesItsLateWrite()
    {
        var name = NewName();
        var data = name + ":data";

        // Extended every second, so the deposed leader hears of its loss soon.
        var ttl = TimeSpan.FromSeconds(3);
        await using var a = await CandidateAsync(name, "a", ttl);
        await using var b = await CandidateAsync(name, "b", ttl);
        var store = FencedStore();
        var first = await a.Election.WaitForLeadershipAsync();
        if (store is not null)
        {
            Assert.True(await store.TryWriteAsync(data, "a", first.FencingToken));
        }

        var waiting = b.Election.WaitForLeadershipAsync();
        await InLineAsync(name, 1);

        // The lease taken away while the leader still believes in it, as its expiry during a pause would.
        Assert.True(await b.Locks.ForceReleaseAsync(name));
        var second = await waiting.WaitAsync(Eventually.Patience);

        Assert.True(second.FencingToken > first.FencingToken);
        if (store is not null)
        {
            Assert.True(await store.TryWriteAsync(data, "b", second.FencingToken));
            Assert.False(await store.TryWriteAsync(data, "a, late", first.FencingToken), "the deposed leader's write was accepted");
            var stored = await store.ReadAsync(data);
            Assert.Equal("b", (string?)stored?.Value);
            Assert.Equal(second.FencingToken, stored?.FencingToken);
        }

        // Its next extension is refused: the term ends and it stops leading.
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(first.Lost.IsCancellationRequested)), "the deposed leader never heard");
        Assert.False(a.Election.IsLeader);
        Assert.True(b.Election.IsLeader);
    }

    [Fact]
    public async Task GetLeaderAsync_ShowsTheLeadersLabelAndTerm_ToEveryCandidate()
    {
        var name = NewName();
        await using var a = await CandidateAsync(name, "web-1 pid 10");
        await using var b = await CandidateAsync(name, "web-2 pid 20");

        Assert.Null(await b.Election.GetLeaderAsync());
        var first = await a.Election.WaitForLeadershipAsync();
        var leader = await b.Election.GetLeaderAsync();

        Assert.NotNull(leader);
        Assert.Equal(first.HolderId, leader.HolderId);
        Assert.Equal("web-1 pid 10", leader.HolderLabel);
        await AssertShowsTermAsync(first.FencingToken, leader.FencingToken);
        Assert.InRange(leader.RemainingTtl ?? TimeSpan.Zero, TimeSpan.FromTicks(1), Ttl);

        var waiting = b.Election.WaitForLeadershipAsync();
        await InLineAsync(name, 1);
        await first.ResignAsync();
        var second = await waiting.WaitAsync(Eventually.Patience);
        leader = await a.Election.GetLeaderAsync();

        Assert.Equal("web-2 pid 20", leader?.HolderLabel);
        await AssertShowsTermAsync(second.FencingToken, leader!.FencingToken);
        Assert.True(second.FencingToken > first.FencingToken);
        await second.ResignAsync();

        // A resignation returns once a majority let go, and a node may still be on its way to it
        // when the look reads every node. The wait is well within the 10 s lease that a resignation
        // leaving the lease held would keep.
        Assert.True(await Eventually.TrueWithinAsync(Ttl / 2, async () => await a.Election.GetLeaderAsync() is null), "the resigned leader is still shown");
    }

    [Fact]
    public async Task CandidatesQueuedOneAfterAnother_LeadInTheOrderTheyCame()
    {
        var name = NewName();
        await using var leader = await CandidateAsync(name, "leader");
        var term = await leader.Election.WaitForLeadershipAsync();
        var candidates = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => CandidateAsync(name, $"candidate-{i}")));
        var order = new List<int>();

        async Task CampaignAsync(int i)
        {
            var won = await candidates[i - 1].Election.WaitForLeadershipAsync();
            lock (order)
            {
                order.Add(i);
            }

            await won.ResignAsync();
        }

        try
        {
            var campaigns = new List<Task>();
            for (var i = 1; i <= 3; i++)
            {
                // Each in line before the next comes, so that the order they came in is the line's.
                campaigns.Add(CampaignAsync(i));
                await InLineAsync(name, i);
            }

            await term.ResignAsync();
            await Task.WhenAll(campaigns).WaitAsync(Eventually.Patience);
        }
        finally
        {
            await DisposeAllAsync(candidates);
        }

        Assert.Equal([1, 2, 3], order);
    }

    [Fact]
    public async Task LeaderService_TwoHosts_OneRunsTheWork_AndAGracefulShutdownHandsItOver()
    {
        var name = NewName();
        var work = new WorkLog();
        await using var a = await LeaderHostAsync(name, "host-a", work.RunUntilStoppedAsync);
        await using var b = await LeaderHostAsync(name, "host-b", work.RunUntilStoppedAsync);

        await a.Host.StartAsync();
        var first = await work.StartedAsync(1);
        await b.Host.StartAsync();
        await InLineAsync(name, 1);

        Assert.Equal("host-a", first.Host);
        var (leads, follows) = (await LeaderEntryAsync(a.Host), await LeaderEntryAsync(b.Host));
        Assert.Equal(HealthStatus.Healthy, leads.Status);
        Assert.Equal(true, leads.Data["leader"]);
        Assert.Equal(HealthStatus.Healthy, follows.Status);
        Assert.Equal(false, follows.Data["leader"]);
        Assert.Equal("host-a", follows.Data["leaderLabel"]);
        await AssertShowsTermAsync(first.Token, (long)follows.Data["term"]);

        var stopwatch = Stopwatch.StartNew();
        await a.Host.StopAsync();
        var second = await work.StartedAsync(2);
        var handover = stopwatch.Elapsed;

        _output.WriteLine($"graceful shutdown of the leader's host: the other host's work started {handover.TotalMilliseconds:F1} ms later (lease {Ttl.TotalSeconds} s)");
        Assert.Equal("host-b", second.Host);
        Assert.True(handover < Ttl / 2, $"the work moved to the other host after {handover}");
        Assert.True(second.Token > first.Token);
        Assert.Equal(1, work.MostAtOnce);
        Assert.Equal(["host-a"], work.Stopped);
        Assert.True((bool)(await LeaderEntryAsync(b.Host)).Data["leader"]);
        await b.Host.StopAsync();
        Assert.Equal(["host-a", "host-b"], work.Stopped);
    }

    [Fact]
    public async Task LeaderService_WorkThatThrows_EndsItsTerm_IsLogged_AndRunsAgainAfterTheRestartDelay()
    {
        var name = NewName();
        var restartDelay = TimeSpan.FromSeconds(1);
        var work = new WorkLog();
        var log = new ListLoggerProvider();
        await using var host = await LeaderHostAsync(name, "host-a", work.FailAsync, restartDelay, log);

        await host.Host.StartAsync();
        var starts = new List<WorkLog.Start>();
        for (var i = 1; i <= 3; i++)
        {
            starts.Add(await work.StartedAsync(i));
        }

        await host.Host.StopAsync();

        // Each failure resigned its term, and the service waited out the delay before it led again: no
        // hot loop. (20 ms of slack: timers count whole milliseconds, and in memory a campaign takes none.)
        var gaps = starts.Zip(starts.Skip(1), (x, y) => Stopwatch.GetElapsedTime(x.At, y.At)).ToList();
        _output.WriteLine($"work failing at once: terms {string.Join(", ", starts.Select(s => s.Token))}, {string.Join(", ", gaps.Select(g => $"{g.TotalMilliseconds:F0} ms"))} apart (restart delay {restartDelay.TotalMilliseconds} ms)");
        Assert.All(gaps, gap => Assert.True(gap >= restartDelay - TimeSpan.FromMilliseconds(20), $"the work ran again {gap} after it failed"));
        Assert.True(starts[0].Token < starts[1].Token && starts[1].Token < starts[2].Token);
        var failures = log.Logger.Entries.Where(e => e.Id.Id == 102).ToList();
        Assert.True(failures.Count >= 3, $"{failures.Count} failures logged");
        Assert.All(failures, f => Assert.Equal(LogLevel.Error, f.Level));
        Assert.Contains(failures, f => f.Message.Contains($"term {starts[0].Token}", StringComparison.Ordinal) && f.Message.Contains(name, StringComparison.Ordinal));
    }

    private LockManagerOptions ManagerOptions() => new() { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { Ttl = Ttl } };

    private async Task<Candidate> CandidateAsync(string name, string label, TimeSpan? ttl = null)
    {
        var locks = await _topology.ConnectAsync(ManagerOptions());
        return new Candidate(locks, locks.CreateElection(name, new LeaderElectionOptions { Ttl = ttl ?? Ttl, HolderLabel = label }));
    }

    /// <summary>
    /// A look at the leader shows the term's token. Over several nodes it shows the highest counter,
    /// and a fence call that reached a node after a majority had answered may have moved that node's
    /// counter past the token (its clock floor had moved on): at least the term's token, then.
    /// </summary>
    private async Task AssertShowsTermAsync(long termToken, long shown)
    {
        await using var probe = await _topology.ConnectAsync();
        if ((await probe.CheckNodesAsync()).Nodes > 1)
        {
            Assert.True(shown >= termToken, $"shows token {shown}, below the term's {termToken}");
        }
        else
        {
            Assert.Equal(termToken, shown);
        }
    }

    private async Task InLineAsync(string name, int waiters) =>
        Assert.True(
            await Eventually.TrueWithinAsync(Eventually.Patience, async () => await _topology.WaitersAsync(name) >= waiters),
            $"{waiters} candidate(s) never waited in the line");

    /// <summary>A store for fenced writes on the topology's Redis; none on the in-memory topology, which has no Redis to keep it in.</summary>
    private FencedRedisStore? FencedStore() =>
        _topology is RedisNodesFixture nodes ? new FencedRedisStore(nodes.Inspectors[0].GetDatabase()) : null;

    /// <summary>
    /// A host as an application builds it, with the leader service and its health entry, not yet
    /// started. Its locks: AddDistLock on the topology's Redis, or a manager of the in-memory topology.
    /// </summary>
    private async Task<LeaderHost> LeaderHostAsync(
        string name, string label, Func<string, LeadershipTerm, CancellationToken, Task> work, TimeSpan? restartDelay = null, ILoggerProvider? log = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
        }

        ILockManager? inMemory = null;
        if (_topology is RedisNodesFixture nodes)
        {
            builder.Services.AddDistLock(settings =>
            {
                foreach (var endpoint in nodes.Endpoints)
                {
                    settings.Redis.Add(endpoint);
                }

                settings.HandoffGrace = TimeSpan.FromSeconds(1);
            });
        }
        else
        {
            inMemory = await _topology.ConnectAsync(ManagerOptions());
            builder.Services.AddSingleton(inMemory);
        }

        builder.Services.AddLeaderService(
            name,
            (_, term, stopping) => work(label, term, stopping),
            options =>
            {
                options.Election.Ttl = Ttl;
                options.Election.HolderLabel = label;
                options.RestartDelay = restartDelay ?? options.RestartDelay;
            });
        builder.Services.AddHealthChecks().AddLeaderService(name);
        return new LeaderHost(builder.Build(), inMemory);
    }

    private static async Task<HealthReportEntry> LeaderEntryAsync(IHost host) =>
        (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries.Single().Value;

    private static async Task DisposeAllAsync(IEnumerable<Candidate> candidates)
    {
        foreach (var candidate in candidates)
        {
            await candidate.DisposeAsync();
        }
    }

    /// <summary>A candidate on a manager of its own; disposing it resigns, then closes the manager.</summary>
    private sealed record Candidate(ILockManager Locks, LeaderElection Election) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Election.DisposeAsync();
            if (Locks is IAsyncDisposable locks)
            {
                await locks.DisposeAsync();
            }
        }
    }

    /// <summary>A host and, on the in-memory topology, the manager it was given (which the host does not own).</summary>
    private sealed record LeaderHost(IHost Host, ILockManager? Locks) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Host.Dispose();
            if (Locks is IAsyncDisposable locks)
            {
                await locks.DisposeAsync();
            }
        }
    }

    /// <summary>What the leader services' work did, across hosts: each start with its host and term, each stop, and how many ran at once.</summary>
    private sealed class WorkLog
    {
        private readonly List<Start> _starts = [];
        private readonly List<string> _stopped = [];
        private int _running;
        private int _most;

        public int MostAtOnce => Volatile.Read(ref _most);

        public IReadOnlyList<string> Stopped
        {
            get
            {
                lock (_starts)
                {
                    return [.. _stopped];
                }
            }
        }

        /// <summary>Work that runs until its term ends or its host stops.</summary>
        public async Task RunUntilStoppedAsync(string host, LeadershipTerm term, CancellationToken stopping)
        {
            Started(host, term);
            try
            {
                await Task.Delay(Timeout.Infinite, stopping);
            }
            finally
            {
                lock (_starts)
                {
                    _stopped.Add(host);
                }

                Interlocked.Decrement(ref _running);
            }
        }

        /// <summary>Work that fails at once.</summary>
        public Task FailAsync(string host, LeadershipTerm term, CancellationToken stopping)
        {
            Started(host, term);
            Interlocked.Decrement(ref _running);
            throw new InvalidOperationException("the work failed");
        }

        /// <summary>The <paramref name="count"/>th start, once it has happened.</summary>
        public async Task<Start> StartedAsync(int count)
        {
            Assert.True(
                await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(Count() >= count)),
                $"the work started {Count()} time(s), not {count}");
            lock (_starts)
            {
                return _starts[count - 1];
            }
        }

        private int Count()
        {
            lock (_starts)
            {
                return _starts.Count;
            }
        }

        private void Started(string host, LeadershipTerm term)
        {
            var running = Interlocked.Increment(ref _running);
            lock (_starts)
            {
                _most = Math.Max(_most, running);
                _starts.Add(new Start(host, term.FencingToken, Stopwatch.GetTimestamp()));
            }
        }

        /// <summary>One start of the work: its host, its term's token, and when (a Stopwatch timestamp).</summary>
        public sealed record Start(string Host, long Token, long At);
    }
}
