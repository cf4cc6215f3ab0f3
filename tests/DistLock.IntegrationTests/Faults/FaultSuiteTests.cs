using System.Diagnostics;
using DistLock.RedisRig;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests.Faults;

/// <summary>
/// Worker processes contend for one lock while the test kills, pauses or restarts them or their
/// Redis; the checker then reads every worker's history. Short here; DISTLOCK_SOAK=1 runs each
/// scenario twenty times longer.
/// </summary>
[Collection(FaultSuiteCollection.Name)]
public sealed class FaultSuiteTests(ITestOutputHelper output)
{
    private const int Ttl = 500;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CorrectWorkers_WithScriptFlushes_HistoryIsClean_AndNoKeyIsLeft()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 3, FaultRun.Seconds(3), Ttl, holdMs: 40);
        await using var admin = await redis.ConnectAsync(",allowAdmin=true");

        // NOSCRIPT in the middle of the run: every script falls back to EVAL once, and carries on.
        await run.WaitForAsync(h => h.Count(e => e.Kind == "ok") >= 5, Patience);
        await admin.GetServer(redis.Endpoint).ScriptFlushAsync();
        var history = await run.FinishAsync(Patience);

        Report(history);
        Assert.Empty(HistoryChecker.Check(history, inModel: true));
        Assert.True(history.Count(e => e.Kind == "ok") >= 10, $"only {history.Count(e => e.Kind == "ok")} acquisitions");
        Assert.Contains(history, e => e.Kind == "write-ok");
        await AssertNoLockKeyLeftAsync(admin, run);
    }

    [Theory]
    [InlineData("plain-del")]
    [InlineData("ignore-lost")]
    public async Task BrokenClient_IsCaughtByTheChecker(string mode)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 3, seconds: 3, ttlMs: 100, holdMs: 300, mode);

        var history = await run.FinishAsync(Patience);

        var violations = HistoryChecker.Check(history, inModel: true);
        output.WriteLine($"{mode}: {violations.Count} violation(s), e.g. {violations.FirstOrDefault()}");
        Assert.Contains(violations, v => v.StartsWith("overlap", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HolderKilled_AWaiterWinsWithinTheTtlPlusOneRetry()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 3, FaultRun.Seconds(4), ttlMs: 1000, holdMs: 200);

        var (victim, token) = await run.WaitForHolderAsync(Patience);
        run.Kill(victim);
        var killedAt = Stopwatch.GetTimestamp();
        var history = await run.FinishAsync(Patience);

        var next = history.FirstOrDefault(e => e.Kind == "ok" && e.Time > killedAt);
        Assert.NotNull(next);
        var waited = Stopwatch.GetElapsedTime(killedAt, next.Time);
        output.WriteLine($"killed holder's lock taken {waited.TotalMilliseconds:F0} ms after the kill (TTL 1000 ms)");
        Report(history);
        Assert.True(waited < TimeSpan.FromMilliseconds(1000 + 20 + 500), $"the lock of killed worker {victim} (token {token}) was taken after {waited}");
        Assert.Empty(HistoryChecker.Check(history, inModel: true));
    }

    [Fact]
    public async Task HolderPausedPastItsTtl_FindsItsLockLost_AndItsWritesRejected()
    {
        // A TTL of 2 s, not the class's 500 ms: the live worker must never lose its lock, and with
        // 500 ms (an extension every 167 ms) it once did, starved on a machine running two CPU hogs
        // beside the suite; the paused holder's loss is what this test is about.
        const int ttl = 2000;
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 2, FaultRun.Seconds(4), ttl, holdMs: 200);

        var (paused, token) = await run.WaitForHolderAsync(Patience);
        await run.StopAsync(paused);

        // Paused until the other worker has taken the lock and written with its newer token.
        await run.WaitForAsync(h => h.Any(e => e.Kind == "write-ok" && e.Token > token), Patience);
        run.Signal(paused, Signals.SigCont);
        var history = await run.FinishAsync(Patience);

        Report(history);
        var mine = history.Where(e => e.Worker == paused.ToString(System.Globalization.CultureInfo.InvariantCulture) && e.Token == token).ToList();
        Assert.Contains(mine, e => e.Kind == "lost");
        Assert.Contains(mine, e => e is { Kind: "probe-extend", Detail: "False" });
        Assert.Contains(mine, e => e.Kind == "write-rejected");
        Assert.Contains(mine, e => e is { Kind: "release", Detail: "False" });
        Assert.DoesNotContain(history, e => e is { Kind: "release", Detail: "False" } && e.Token != token);
        Assert.Empty(HistoryChecker.Check(history, inModel: false));
    }

    [Fact]
    public async Task RedisPausedPastTheTtl_TheHolderLearnsItLostTheLock_AndNobodyAcquiresMeanwhile()
    {
        await using var redis = await RedisServer.StartAsync();
        // Holds of 1.5-3 s: the holder is still at work when Redis stops answering.
        await using var run = await FaultRun.StartAsync([redis], workers: 2, FaultRun.Seconds(4), Ttl, holdMs: 3000);

        var (holder, token) = await run.WaitForHolderAsync(Patience);
        await redis.PauseAsync();
        var pausedAt = Stopwatch.GetTimestamp();
        await Task.Delay(Ttl * 2); // time must pass: Redis stays paused for two TTLs, so the holder's lease runs out while nobody answers
        var resumedAt = Stopwatch.GetTimestamp();
        redis.Resume();
        var history = await run.FinishAsync(Patience);

        var lost = history.FirstOrDefault(e => e.Kind == "lost" && e.Token == token);
        Assert.NotNull(lost);
        var acquired = history.First(e => e.Kind == "ok" && e.Token == token);
        output.WriteLine($"lost signal {Stopwatch.GetElapsedTime(acquired.Time, lost.Time).TotalMilliseconds:F0} ms after the acquire, " +
            $"{Stopwatch.GetElapsedTime(pausedAt, lost.Time).TotalMilliseconds:F0} ms into the Redis pause (TTL {Ttl} ms)");
        Report(history);
        Assert.DoesNotContain(history, e => e.Kind == "ok" && e.Time > pausedAt && e.Time < resumedAt);
        Assert.Empty(HistoryChecker.Check(history, inModel: true));
        Assert.True(history.Count(e => e.Kind == "ok" && e.Time > resumedAt) > 0, $"worker {holder}'s lock: nobody acquired after the pause");
    }

    [Fact]
    public async Task RedisRestartedEmptyWhileHeld_TokensStillIncrease_AndStaleWritesAreRejected()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 2, FaultRun.Seconds(4), Ttl, holdMs: 300);

        var (_, token) = await run.WaitForHolderAsync(Patience);
        await redis.RestartAsync();
        var restartedAt = Stopwatch.GetTimestamp();
        var history = await run.FinishAsync(Patience);

        // Without persistence a restart forgets the lock, so holds may overlap (out of the
        // model); the counter restarts from the server clock, so fencing still holds.
        Report(history);
        Assert.Contains(history, e => e.Kind == "ok" && e.Time > restartedAt && e.Token > token);
        Assert.Empty(HistoryChecker.Check(history, inModel: false));
    }

    [Fact]
    public async Task ReleasesCancelledMidway_HandleIsNeverHeldAfterwards_HistoryIsClean()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 3, FaultRun.Seconds(4), ttlMs: 2000, holdMs: 40, mode: "cancel-release");

        var history = await run.FinishAsync(Patience);

        var unclear = history.Where(e => e.Kind == "release-unclear").ToList();
        output.WriteLine($"{unclear.Count} releases cancelled with an unknown outcome; handle state after them: " +
            string.Join(", ", unclear.GroupBy(e => e.Detail).Select(g => $"{g.Key} {g.Count()}")));
        Report(history);
        Assert.True(unclear.Count >= 3, $"only {unclear.Count} releases were cancelled in flight");
        Assert.DoesNotContain(unclear, e => e.Detail == nameof(LockState.Held));
        Assert.Empty(HistoryChecker.Check(history, inModel: true));
    }

    [Fact]
    public async Task WaiterPausedInTheLine_HandoffsCostTheGrace_NotTheTtl()
    {
        // TTL 6 s, waits of up to 10 s, and a releaser rests 2 s before it asks again (else it
        // would take the lock itself once a reservation lapsed): a handoff that waited for the
        // holder's TTL, or for the releaser to come back, shows as a second or more. Paused until
        // two handoffs to a live waiter have happened.
        // A holder lets go only once two wait in Redis's line: the paused one (until a release
        // drops it) and a live one, or two live ones. So every release meanwhile is a handoff to a
        // live waiter; with random holds and rests alone, most releases found nobody waiting and
        // the run could end before the second handoff came.
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync(
            [redis], workers: 4, FaultRun.Seconds(15), ttlMs: 6000, holdMs: 600, waitMs: 10_000, restMs: 2000, releaseAtLine: 2);

        await using var admin = await redis.ConnectAsync();
        var line = $"lock:{{{run.Resource}}}:waiters";
        int paused;
        while (true)
        {
            // The only waiter, stopped while the holder still holds, and already in Redis's line
            // (its attempt in line was made): first in it.
            paused = await run.StopLoneWaiterAsync(Patience);
            if (await admin.GetDatabase().SortedSetLengthAsync(line) == 1)
            {
                break;
            }

            run.Signal(paused, Signals.SigCont);
        }

        var pausedAt = Stopwatch.GetTimestamp();
        await run.WaitForAsync(h => FaultRun.Handoffs(h, pausedAt, long.MaxValue, paused).Count(t => t != TimeSpan.MaxValue) >= 2, Patience);
        var resumedAt = Stopwatch.GetTimestamp();
        run.Signal(paused, Signals.SigCont);
        var history = await run.FinishAsync(Patience);

        var handoffs = FaultRun.Handoffs(history, pausedAt, resumedAt, paused).Where(h => h != TimeSpan.MaxValue).ToList();
        ShowSlowestHandoff(history, pausedAt, paused);
        output.WriteLine($"worker {paused} paused while waiting: {handoffs.Count} handoffs meanwhile, the slowest " +
            $"{handoffs.DefaultIfEmpty().Max().TotalMilliseconds:F0} ms (grace 20 ms, TTL 6000 ms)");
        Report(history);
        Assert.True(handoffs.Count >= 1, $"only {handoffs.Count} handoffs while worker {paused} was paused");
        Assert.All(handoffs, h => Assert.True(h < TimeSpan.FromMilliseconds(1000), $"a handoff took {h} behind the paused waiter"));
        Assert.Empty(HistoryChecker.Check(history, inModel: true));
    }

    [Fact]
    public async Task WaitersKilledAtOnce_WithAFleetOfDeadEntries_HandoffsGoOn()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 5, FaultRun.Seconds(12), ttlMs: 6000, holdMs: 600, waitMs: 10_000, restMs: 2000);
        await using var admin = await redis.ConnectAsync();

        // Waiters killed at once while one more waits behind them, and the places of a hundred
        // more that died the same way. The holder is stopped meanwhile, so that its release comes
        // after the kill and finds the live waiter still waiting: released just before, the lock
        // could go to a waiter about to be killed, and no handoff come after the kill.
        var (holder, waiting) = await run.StopHolderWithWaitersAsync(2, Patience);
        var killed = waiting.SkipLast(1).ToArray();
        foreach (var id in killed)
        {
            run.Kill(id);
        }

        var line = $"lock:{{{run.Resource}}}:waiters";
        await admin.GetDatabase().SortedSetAddAsync(line, Enumerable.Range(0, 100).Select(i => new SortedSetEntry($"dead-{i}", -1000 + i)).ToArray());
        var killedAt = Stopwatch.GetTimestamp();
        run.Signal(holder, Signals.SigCont);
        var history = await run.FinishAsync(Patience);

        var handoffs = FaultRun.Handoffs(history, killedAt, long.MaxValue, killed).Where(h => h != TimeSpan.MaxValue).ToList();
        ShowSlowestHandoff(history, killedAt, killed);
        output.WriteLine($"workers {string.Join(", ", killed)} killed while waiting, 100 dead entries added: {handoffs.Count} handoffs after, " +
            $"the slowest {handoffs.DefaultIfEmpty().Max().TotalMilliseconds:F0} ms (TTL 6000 ms)");
        Report(history);
        Assert.True(handoffs.Count >= 1, $"only {handoffs.Count} handoffs after the kill");
        Assert.All(handoffs, h => Assert.True(h < TimeSpan.FromMilliseconds(1000), $"a handoff took {h} after the waiters died"));
        Assert.Empty(HistoryChecker.Check(history, inModel: true));
    }

    [Fact]
    public async Task RedisRestartedFromAnOlderSnapshot_TokensStillIncrease()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await FaultRun.StartAsync([redis], workers: 3, FaultRun.Seconds(4), Ttl, holdMs: 40);
        await using (var admin = await redis.ConnectAsync(",allowAdmin=true"))
        {
            await run.WaitForAsync(h => h.Count(e => e.Kind == "ok") >= 3, Patience);
            await admin.GetDatabase().ExecuteAsync("SAVE");
            var saved = run.History().Count(e => e.Kind == "ok");
            await run.WaitForAsync(h => h.Count(e => e.Kind == "ok") >= saved + 5, Patience);
        }

        // Killed and started again: it loads the snapshot, whose counter is behind the tokens issued since.
        await redis.RestartAsync();
        var restartedAt = Stopwatch.GetTimestamp();
        var history = await run.FinishAsync(Patience);

        // The snapshot can bring back a lock that was released since (out of the model); fencing must hold.
        Report(history);
        Assert.Contains(history, e => e.Kind == "ok" && e.Time > restartedAt);
        Assert.Empty(HistoryChecker.Check(history, inModel: false));
    }

    [Fact]
    public async Task Redlock_MinorityKilled_HistoryIsClean()
    {
        var servers = await RedisServer.StartManyAsync(3);
        try
        {
            await using var run = await FaultRun.StartAsync(servers, workers: 3, FaultRun.Seconds(4), Ttl, holdMs: 40);
            await run.WaitForAsync(h => h.Count(e => e.Kind == "ok") >= 5, Patience);
            servers[0].Kill();
            var killedAt = Stopwatch.GetTimestamp();
            var history = await run.FinishAsync(Patience);

            Report(history);
            Assert.Empty(HistoryChecker.Check(history, inModel: true));
            Assert.True(history.Count(e => e.Kind == "ok" && e.Time > killedAt) >= 5, "the two live nodes keep serving locks");
        }
        finally
        {
            await DisposeAllAsync(servers);
        }
    }

    [Fact]
    public async Task Redlock_MinorityPaused_HistoryIsClean()
    {
        var servers = await RedisServer.StartManyAsync(3);
        try
        {
            await using var run = await FaultRun.StartAsync(servers, workers: 3, FaultRun.Seconds(4), Ttl, holdMs: 40);
            await run.WaitForAsync(h => h.Count(e => e.Kind == "ok") >= 5, Patience);
            await servers[2].PauseAsync();
            var pausedAt = Stopwatch.GetTimestamp();
            await Task.Delay(Ttl * 3); // time must pass: the minority stays paused for three TTLs while the others go on
            servers[2].Resume();
            var history = await run.FinishAsync(Patience);

            Report(history);
            Assert.Empty(HistoryChecker.Check(history, inModel: true));
            Assert.True(history.Count(e => e.Kind == "ok" && e.Time > pausedAt) >= 5, "the two live nodes keep serving locks");
        }
        finally
        {
            await DisposeAllAsync(servers);
        }
    }

    /// <summary>Prints the events around the slowest handoff after <paramref name="from"/>, for a failure's reader.</summary>
    private void ShowSlowestHandoff(List<HistoryEvent> history, long from, params int[] absent)
    {
        var releases = history.Where(e => e is { Kind: "release", Detail: "True" } && e.Time >= from).ToList();
        var slowest = releases.Zip(FaultRun.Handoffs(history, from, long.MaxValue, absent)).OrderByDescending(p => p.Second).FirstOrDefault();
        if (slowest.First is not { } release)
        {
            return;
        }

        foreach (var e in history.Where(e => e.Kind is not ("use" or "write-ok") && Math.Abs(Stopwatch.GetElapsedTime(release.Time, e.Time).TotalMilliseconds) < 100 + slowest.Second.TotalMilliseconds))
        {
            output.WriteLine($"  {Stopwatch.GetElapsedTime(release.Time, e.Time).TotalMilliseconds,8:F1} ms  worker {e.Worker} {e.Kind} {e.Token} {e.Detail}");
        }
    }

    private void Report(List<HistoryEvent> history) =>
        output.WriteLine($"{history.Count(e => e.Kind == "ok")} acquisitions, {history.Count(e => e.Kind == "write-ok")} fenced writes accepted, " +
            $"{history.Count(e => e.Kind == "write-rejected")} rejected, {history.Count(e => e.Kind == "lost")} lost, " +
            $"{history.Count(e => e.Kind == "unknown")} acquire errors");

    private static async Task AssertNoLockKeyLeftAsync(ConnectionMultiplexer admin, FaultRun run)
    {
        await Task.Delay(Ttl); // time must pass on the server: a key a worker left behind expires within a TTL
        Assert.False(await admin.GetDatabase().KeyExistsAsync($"lock:{{{run.Resource}}}"), "a lock key outlived every worker by a TTL");
    }

    private static async Task DisposeAllAsync(RedisServer[] servers)
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }
}

// Alone: its worker processes fill both cores, and short TTLs in tests beside it would lapse.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultSuiteCollection
{
    public const string Name = "fault suite";
}
