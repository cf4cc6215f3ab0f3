using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests;

/// <summary>
/// Leader election on the in-process manager, on a fake clock that only the test moves: who leads,
/// hand-over on resignation without the clock moving (the next candidate is woken), a crashed
/// leader replaced at its lease's end, a lost term's token, terms one after another, and the
/// bad input the election refuses.
/// </summary>
public sealed class LeaderElectionTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(9);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_795_000_000));

    private LockManagerOptions Options() => new() { TimeProvider = _time, Defaults = { Ttl = Ttl } };

    [Fact]
    public async Task FirstCandidateLeads_TheSecondWaits_AndGetLeaderSaysWho()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var otherProcess = new InMemoryLockManager(locks, Options());
        await using var a = locks.CreateElection("reports", new LeaderElectionOptions { HolderLabel = "web-1 pid 10" });
        await using var b = otherProcess.CreateElection("reports", new LeaderElectionOptions { HolderLabel = "web-2 pid 20" });

        Assert.Null(await a.GetLeaderAsync());
        var term = await a.WaitForLeadershipAsync().WaitAsync(Eventually.Patience);
        var second = b.WaitForLeadershipAsync();
        await Eventually.InLineAsync(locks, "reports", 1);

        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);
        Assert.False(second.IsCompleted);
        Assert.True(term.IsActive);
        Assert.Equal("reports", term.Name);
        Assert.Equal(_time.GetUtcNow(), term.Since);
        Assert.True(term.FencingToken > 0);
        var leader = await b.GetLeaderAsync();
        Assert.NotNull(leader);
        Assert.Equal(term.HolderId, leader.HolderId);
        Assert.Equal("web-1 pid 10", leader.HolderLabel);
        Assert.Equal(term.FencingToken, leader.FencingToken);
        Assert.Equal(Ttl, leader.RemainingTtl);
        Assert.Same(term, await a.WaitForLeadershipAsync()); // already leading: the same term, not a second place in line
    }

    [Fact]
    public async Task Resign_HandsOverToTheNextCandidate_WithoutTheClockMoving()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var otherProcess = new InMemoryLockManager(locks, Options());
        await using var a = locks.CreateElection("outbox");
        await using var b = otherProcess.CreateElection("outbox");
        var first = await a.WaitForLeadershipAsync();
        var waiting = b.WaitForLeadershipAsync();
        await Eventually.InLineAsync(locks, "outbox", 1);

        Assert.True(await first.ResignAsync());

        Assert.True(first.Lost.IsCancellationRequested);
        Assert.False(a.IsLeader);
        var second = await waiting.WaitAsync(Eventually.Patience);
        Assert.True(b.IsLeader);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.False(await first.ResignAsync());
    }

    [Fact]
    public async Task CrashedLeader_IsReplacedWhenItsLeaseRunsOut()
    {
        await using var locks = new InMemoryLockManager(Options());
        var crashing = new InMemoryLockManager(locks, Options());
        await using var survivor = locks.CreateElection("warmer");
        var crashed = await crashing.CreateElection("warmer").WaitForLeadershipAsync();
        var waiting = survivor.WaitForLeadershipAsync();
        await Eventually.InLineAsync(locks, "warmer", 1);

        // A process that dies extends nothing and releases nothing (no AutoReleaseOnDispose).
        await crashing.DisposeAsync();
        Assert.True(crashed.Lost.IsCancellationRequested);
        _time.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1) + new LockManagerOptions().HandoffGrace); // within the TTL and one grace
        var next = await waiting.WaitAsync(Eventually.Patience);
        Assert.True(next.FencingToken > crashed.FencingToken);
    }

    [Fact]
    public async Task LeaseTakenAway_LostFires_AndTheNextCandidateLeads()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var otherProcess = new InMemoryLockManager(locks, Options());
        await using var a = locks.CreateElection("consumer");
        await using var b = otherProcess.CreateElection("consumer");
        var first = await a.WaitForLeadershipAsync();
        var lost = first.Lost;
        var waiting = b.WaitForLeadershipAsync();
        await Eventually.InLineAsync(locks, "consumer", 1);

        Assert.True(await locks.ForceReleaseAsync("consumer"));
        var second = await waiting.WaitAsync(Eventually.Patience);
        _time.Advance(Ttl / 3); // the old leader's next extension is refused

        await Eventually.TrueAsync(() => Task.FromResult(lost.IsCancellationRequested), "the old term lost");
        Assert.False(a.IsLeader);
        Assert.True(b.IsLeader);
        Assert.True(second.FencingToken > first.FencingToken);
    }

    [Fact]
    public async Task ManagerDisposedWithAutoRelease_EndsTheTerm_ForAWorkerThatReadLostBefore()
    {
        var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _time, AutoReleaseOnDispose = true, Defaults = { Ttl = Ttl } });
        var term = await locks.CreateElection("relay").WaitForLeadershipAsync();
        var lost = term.Lost; // what work started with the term holds

        await locks.DisposeAsync(); // releases the lease: no loss for a lock, but the end of the term

        await Eventually.TrueAsync(() => Task.FromResult(lost.IsCancellationRequested), "the saved Lost token cancelled");
        Assert.False(term.IsActive);
    }

    [Fact]
    public async Task TermsAsync_GivesOneTermAfterAnother_EachWithAHigherToken()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var election = locks.CreateElection("scheduler");
        var tokens = new List<long>();

        await foreach (var term in election.TermsAsync().WithCancellation(CancellationToken.None))
        {
            await using (term)
            {
                tokens.Add(term.FencingToken);
            }

            if (tokens.Count == 3)
            {
                break;
            }
        }

        Assert.Equal(3, tokens.Count);
        Assert.True(tokens[0] < tokens[1] && tokens[1] < tokens[2], string.Join(", ", tokens));
        Assert.Null(await election.GetLeaderAsync());
    }

    [Fact]
    public async Task TermsAsync_WaitsOutATermTheCallerKeeps_ThenCampaignsAgain()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var election = locks.CreateElection("scheduler");
        await using var terms = election.TermsAsync().GetAsyncEnumerator();
        Assert.True(await terms.MoveNextAsync());
        var first = terms.Current;

        var next = terms.MoveNextAsync().AsTask();
        await Task.Delay(50);
        Assert.False(next.IsCompleted);

        await first.ResignAsync();
        Assert.True(await next.WaitAsync(Eventually.Patience));
        Assert.True(terms.Current.FencingToken > first.FencingToken);
        await terms.Current.DisposeAsync();
    }

    [Fact]
    public async Task Dispose_WhileCampaigning_EndsTheCampaign_AndResignsTheTerm()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var otherProcess = new InMemoryLockManager(locks, Options());
        var leaderElection = locks.CreateElection("relay");
        var term = await leaderElection.WaitForLeadershipAsync();
        var candidate = otherProcess.CreateElection("relay");
        var campaigning = candidate.WaitForLeadershipAsync();
        var terms = candidate.TermsAsync().GetAsyncEnumerator();
        var nextTerm = terms.MoveNextAsync().AsTask();
        await Eventually.InLineAsync(locks, "relay", 1);

        await candidate.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => campaigning.WaitAsync(Eventually.Patience));
        Assert.False(await nextTerm.WaitAsync(Eventually.Patience));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => candidate.WaitForLeadershipAsync());
        await Eventually.InLineAsync(locks, "relay", 0);

        await leaderElection.DisposeAsync();
        Assert.True(term.Lost.IsCancellationRequested);
        Assert.Null((await locks.InspectAsync("relay")).HolderId);
    }

    [Fact]
    public async Task CancelledCampaign_ThrowsAndLeavesNoPlaceInLine()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var otherProcess = new InMemoryLockManager(locks, Options());
        await using var leader = locks.CreateElection("relay");
        await using var _ = await leader.WaitForLeadershipAsync();
        await using var candidate = otherProcess.CreateElection("relay");
        using var cancel = new CancellationTokenSource();
        var campaigning = candidate.WaitForLeadershipAsync(cancel.Token);
        await Eventually.InLineAsync(locks, "relay", 1);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => campaigning.WaitAsync(Eventually.Patience));
        await Eventually.InLineAsync(locks, "relay", 0);
        Assert.False(candidate.IsLeader);
    }

    [Fact]
    public async Task HolderLabel_DefaultsToTheManagersLabel_ThenToHostAndPid()
    {
        await using var labelled = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _time, Defaults = { HolderLabel = "billing-7" } });
        await using (var election = labelled.CreateElection("a"))
        {
            await election.WaitForLeadershipAsync();
            Assert.Equal("billing-7", (await election.GetLeaderAsync())?.HolderLabel);
        }

        await using var plain = new InMemoryLockManager(Options());
        await using (var election = plain.CreateElection("b"))
        {
            await election.WaitForLeadershipAsync();
            Assert.Equal($"{Environment.MachineName} pid {Environment.ProcessId}", (await election.GetLeaderAsync())?.HolderLabel);
        }
    }

    [Fact]
    public async Task CreateElection_RefusesBadInput()
    {
        await using var locks = new InMemoryLockManager(Options());

        Assert.Throws<ArgumentNullException>("locks", () => LeaderElectionExtensions.CreateElection(null!, "x"));
        Assert.Throws<ArgumentException>("name", () => locks.CreateElection(" "));
        Assert.Throws<ArgumentOutOfRangeException>("Ttl", () => locks.CreateElection("x", new LeaderElectionOptions { Ttl = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>("MaxRetryBackoff", () => locks.CreateElection("x", new LeaderElectionOptions { MaxRetryBackoff = TimeSpan.FromMilliseconds(10) }));
        Assert.Throws<ArgumentOutOfRangeException>("MaxRetryBackoff", () => locks.CreateElection("x", new LeaderElectionOptions { MaxRetryBackoff = TimeSpan.FromDays(100) }));
        Assert.NotNull(locks.CreateElection("x", new LeaderElectionOptions { MaxRetryBackoff = TimeSpan.FromHours(1) }));
        Assert.ThrowsAny<ArgumentException>(() => locks.CreateElection("x", new LeaderElectionOptions { HolderLabel = "bad\nlabel" }));
    }
}
