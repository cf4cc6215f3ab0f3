using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.Transport;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests;

/// <summary>
/// Several resources at once (issue 26) on every topology, each caller on a manager of its own, as a
/// process would be: all members or none, a set and a single lock on a member exclude each other,
/// callers whose sets overlap in opposite orders both finish, a waiter is woken when its whole set
/// is free (not polled), one token above every member's earlier tokens, loss of a member is the
/// handle's loss, and bad input is refused before anything is sent. The matrix is in TestMatrix.cs.
/// </summary>
/// <remarks>
/// The handover grace is 1 s, as in the patient suites, and the TTL 10 s: a waiter that polled, or
/// slept to a holder's expiry, would show as seconds.
/// </remarks>
public abstract class MultiResourceSemanticsTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private readonly ILockTopology _topology;
    private readonly ITestOutputHelper _output;

    protected MultiResourceSemanticsTests(ILockTopology topology, ITestOutputHelper output)
    {
        _topology = topology;
        _output = output;
    }

    private static string[] NewNames(int count)
    {
        var run = Guid.NewGuid().ToString("N");
        return [.. Enumerable.Range(0, count).Select(i => $"account:{run}:{i}")];
    }

    // A NodeTimeout of 5 s: no case here is about a slow node, and Garnet's first script of a run
    // was seen to take over the default 1 s while every fixture started.
    private Task<ILockManager> ManagerAsync(TimeSpan? grace = null) =>
        _topology.ConnectAsync(new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(5), HandoffGrace = grace ?? TimeSpan.FromSeconds(1), Defaults = { Ttl = Ttl } });

    [Fact]
    public async Task AcquireAll_HoldsEveryMember_AndReleaseFreesThemAll()
    {
        var names = NewNames(3);
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();

        var handle = await a.AcquireAllAsync([names[2], names[0], names[1], names[0]]);

        Assert.Equal(names, handle.Resources);
        Assert.Equal(LockState.Held, handle.State);
        foreach (var name in names)
        {
            Assert.Null(await b.TryAcquireAsync(name));
            Assert.Equal(handle.HolderId, (await b.InspectAsync(name)).HolderId);
        }

        Assert.True(await handle.ReleaseAsync());
        foreach (var name in names)
        {
            await using var single = await b.TryAcquireAsync(name);
            Assert.NotNull(single);
        }
    }

    [Fact]
    public async Task TryAcquireAll_WithOneMemberBusy_TakesNone()
    {
        var names = NewNames(3);
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();
        await using var busy = await b.AcquireAsync(names[1]);

        Assert.Null(await a.TryAcquireAllAsync(names));
        Assert.Null(await a.TryAcquireAllAsync(names, TimeSpan.FromMilliseconds(300)));

        foreach (var name in new[] { names[0], names[2] })
        {
            // On Redlock a node whose grant of the set comes after the refusals is given back
            // in the background, once it answers: what is left must go, not stay.
            Assert.True(
                await Eventually.TrueWithinAsync(Eventually.Patience, async () => await b.InspectAsync(name) is { HolderId: null, HandingOver: 0 }),
                $"{name} was left taken or reserved: {await b.InspectAsync(name)}");
            await using var free = await b.TryAcquireAsync(name);
            Assert.NotNull(free);
        }
    }

    [Fact]
    public async Task AWaiter_IsWokenWhenItsWholeSetIsFree_NotBefore()
    {
        var names = NewNames(2);
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();
        await using var c = await ManagerAsync();
        var first = await a.AcquireAsync(names[0]);
        var second = await b.AcquireAsync(names[1]);

        var waiting = c.AcquireAllAsync(names, TimeSpan.FromSeconds(60));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await WaitersAsync(names) > 0), "the set never joined a line");
        await first.ReleaseAsync();
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted, "the set was taken while one member was still held");

        var stopwatch = Stopwatch.StartNew();
        await second.ReleaseAsync();
        await using var set = await waiting.WaitAsync(Eventually.Patience);
        _output.WriteLine($"the set was taken {stopwatch.Elapsed.TotalMilliseconds:F1} ms after its last member was released (TTL {Ttl.TotalSeconds} s)");

        Assert.True(stopwatch.Elapsed < Ttl / 2, $"taken {stopwatch.Elapsed} after the release: the waiter was not woken");
        Assert.Equal(names, set.Resources);
    }

    [Fact]
    public async Task TwoCallersWithOverlappingSetsInOppositeOrders_BothFinishEveryRound()
    {
        var names = NewNames(4);
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();
        var holding = 0;
        var overlapped = false;

        async Task RunAsync(ILockManager locks, string[] set)
        {
            for (var i = 0; i < 30; i++)
            {
                await using var handle = await locks.AcquireAllAsync(set, TimeSpan.FromSeconds(60));
                overlapped |= Interlocked.Increment(ref holding) > 1;
                await Task.Yield();
                Interlocked.Decrement(ref holding);
            }
        }

        await Task.WhenAll(
            RunAsync(a, [names[0], names[1], names[2]]),
            RunAsync(b, [names[3], names[2], names[1]])).WaitAsync(Eventually.Patience * 2);

        Assert.False(overlapped, "two sets that share members were held at once");
    }

    [Fact]
    public async Task ManyCallersOnFewMembers_NeverShareAMember_AndAllFinish()
    {
        var names = NewNames(5);
        var managers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ManagerAsync()));
        var holders = new int[names.Length];
        var violations = 0;
        var done = 0;
        try
        {
            async Task WorkAsync(ILockManager locks, int seed)
            {
                var random = new Random(seed);
                for (var i = 0; i < 15; i++)
                {
                    var set = names.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToArray();
                    await using var handle = await locks.AcquireAllAsync(set, TimeSpan.FromSeconds(60));
                    var members = handle.Resources.Select(r => Array.IndexOf(names, r)).ToArray();
                    foreach (var m in members)
                    {
                        if (Interlocked.Increment(ref holders[m]) > 1)
                        {
                            Interlocked.Increment(ref violations);
                        }
                    }

                    await Task.Delay(random.Next(0, 3));
                    foreach (var m in members)
                    {
                        Interlocked.Decrement(ref holders[m]);
                    }

                    Interlocked.Increment(ref done);
                }
            }

            await Task.WhenAll(managers.SelectMany((m, i) => new[] { WorkAsync(m, i * 2), WorkAsync(m, (i * 2) + 1) }))
                .WaitAsync(Eventually.Patience * 3);
        }
        finally
        {
            foreach (var m in managers)
            {
                await m.DisposeAsync();
            }
        }

        Assert.Equal(0, violations);
        Assert.Equal(8 * 15, done);
    }

    [Fact]
    public async Task HotAccounts_RandomPairsFromManyTasks_NoTransferWaitsAboutATtl()
    {
        // The bench's hot accounts found circles of sets, each keeping a member (reserved, for about
        // a TTL) that the next one waited for; the handoff grace is the default here, so a woken
        // set that misses it comes back out of order, as it did there.
        var names = NewNames(8);
        var longTtl = TimeSpan.FromSeconds(30);
        var managers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            _topology.ConnectAsync(new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(5), Defaults = { Ttl = longTtl } })));
        var longest = TimeSpan.Zero;
        try
        {
            async Task TransferAsync(ILockManager locks, int seed)
            {
                var random = new Random(seed);
                for (var i = 0; i < 25; i++)
                {
                    var from = random.Next(names.Length);
                    var to = (from + 1 + random.Next(names.Length - 1)) % names.Length;
                    var stopwatch = Stopwatch.StartNew();
                    await using var pair = await locks.AcquireAllAsync([names[from], names[to]], TimeSpan.FromSeconds(90));
                    lock (names)
                    {
                        longest = stopwatch.Elapsed > longest ? stopwatch.Elapsed : longest;
                    }
                }
            }

            await Task.WhenAll(managers.SelectMany((m, i) => Enumerable.Range(0, 3).Select(t => TransferAsync(m, (i * 3) + t))));
        }
        finally
        {
            foreach (var m in managers)
            {
                await m.DisposeAsync();
            }
        }

        _output.WriteLine($"300 transfers, the longest wait {longest.TotalMilliseconds:F0} ms");
        Assert.True(longest < longTtl / 3, $"a transfer waited {longest}: something was kept for it or from it for about a TTL");
    }

    [Fact]
    public async Task WaitersOnAMember_AreServedInArrivalOrder_SingleLocksAndSetsAlike()
    {
        var names = NewNames(2);
        await using var holderManager = await ManagerAsync();
        var holder = await holderManager.AcquireAsync(names[0]);

        // A waiter that misses its turn's grace goes behind the next; on a loaded machine 1 s was not always enough.
        var managers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ManagerAsync(TimeSpan.FromSeconds(5))));
        var order = new List<int>();
        try
        {
            async Task TakeAsync(int i)
            {
                await using var handle = i == 1
                    ? await managers[i].AcquireAsync(names[0], TimeSpan.FromSeconds(60))
                    : await managers[i].AcquireAllAsync(names, TimeSpan.FromSeconds(60));
                lock (order)
                {
                    order.Add(i);
                }
            }

            // A set stands in the line of each member it waits for; in a cluster, whose members are
            // in different slots, first only in the line of the first slot it waits for. Over several
            // nodes a waiter has arrived once it stands in every node's line: the longest line grows
            // as soon as one node has it, and a next waiter that got into the others' lines first
            // is ahead there, on a majority (this test failed 4 runs in 8 beside a CPU hog so).
            var takers = new List<Task>();
            for (var i = 0; i < 3; i++)
            {
                var before = -1;
                Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (before = await ShortestLinesAsync(names)) >= 0));
                takers.Add(TakeAsync(i));
                Assert.True(
                    await Eventually.TrueWithinAsync(Eventually.Patience, async () => await ShortestLinesAsync(names) > before),
                    $"waiter {i} never joined the lines");
            }

            await holder.ReleaseAsync();
            await Task.WhenAll(takers).WaitAsync(Eventually.Patience);
        }
        finally
        {
            foreach (var m in managers)
            {
                await m.DisposeAsync();
            }
        }

        Assert.Equal([0, 1, 2], order);
    }

    [Fact]
    public async Task TwoSetsWaitingForAHeldMember_DoNotWakeEachOther_OverAnotherMember()
    {
        var names = NewNames(2);
        await using var holders = await ManagerAsync();
        var first = await holders.AcquireAsync(names[0]);
        var second = await holders.AcquireAsync(names[1]);
        var managers = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => ManagerAsync()));
        try
        {
            var sets = new List<Task<LockHandle>>();
            foreach (var manager in managers)
            {
                var before = await ShortestLinesAsync(names);
                sets.Add(manager.AcquireAllAsync(names, TimeSpan.FromSeconds(60)));
                Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await ShortestLinesAsync(names) > before), "a set never joined the lines");
            }

            // The second member's turn comes to the first set, which cannot use it while the first
            // member is held: it goes on to the set behind, which cannot use it either. Neither
            // should look again before the first member is free: they once woke each other for as
            // long as it was held (in these 3 s, 1,672 attempts over three nodes, 18-20 on one).
            await second.ReleaseAsync();
            await Task.Delay(TimeSpan.FromSeconds(3));
            await first.ReleaseAsync();
            foreach (var set in sets)
            {
                await using var handle = await set.WaitAsync(Eventually.Patience);
                _output.WriteLine($"taken on attempt {handle.AcquiredOnAttempt}");
                Assert.InRange(handle.AcquiredOnAttempt, 1, 10);
            }
        }
        finally
        {
            foreach (var m in managers)
            {
                await m.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TheSetsToken_IsAboveEveryMembersEarlierToken_AndLaterHoldersAreAboveIt()
    {
        var names = NewNames(3);
        await using var locks = await ManagerAsync();
        long highest = 0;
        foreach (var name in names)
        {
            await using var single = await locks.AcquireAsync(name);
            highest = Math.Max(highest, await single.GetFencingTokenAsync());
        }

        long setToken;
        await using (var set = await locks.AcquireAllAsync(names))
        {
            setToken = await set.GetFencingTokenAsync();
            Assert.Equal(setToken, await set.GetFencingTokenAsync());
        }

        Assert.True(setToken > highest, $"the set's token {setToken} is not above {highest}");
        foreach (var name in names)
        {
            await using var later = await locks.AcquireAsync(name);
            Assert.True(await later.GetFencingTokenAsync() > setToken, $"a later holder of {name} got a token below the set's");
        }
    }

    [Fact]
    public async Task LosingOneMember_IsTheHandlesLoss_AndExtensionKeepsThemAll()
    {
        var names = NewNames(2);
        await using var locks = await ManagerAsync();
        await using var set = await locks.AcquireAllAsync(new LockRequest(names) { Ttl = TimeSpan.FromSeconds(2) });

        Assert.True(await set.ExtendAsync(TimeSpan.FromSeconds(20)));
        foreach (var name in names)
        {
            Assert.InRange((await locks.InspectAsync(name)).RemainingTtl ?? TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));
        }

        Assert.True(await locks.ForceReleaseAsync(names[1]));
        Assert.False(await set.ExtendAsync(TimeSpan.FromSeconds(20)));
        Assert.True(set.LostToken.IsCancellationRequested);
        Assert.Equal(LockState.Lost, set.State);
    }

    /// <summary>
    /// Regression (a review, 2026-12-06): a waiting set kept a member after the one it waited for
    /// reserved until that one's holder let go, and kept it again at every look; the holder, going on
    /// to the next lock in name order, waited for it: each waited for the other, until a timeout.
    /// Names with one hash tag: in a cluster a set across slots is taken in slot order instead.
    /// </summary>
    [Fact]
    public async Task AHolderGoingOnInNameOrder_IsNotKeptWaitingByASetThatWaitsForWhatItHolds()
    {
        var tag = "{" + Guid.NewGuid().ToString("N") + "}";
        string[] names = [tag + "a", tag + "b"];
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();
        await using var c = await ManagerAsync();
        var first = await a.AcquireAsync(names[0]);
        var other = await c.AcquireAsync(names[1]);
        var waiting = b.AcquireAllAsync(names, TimeSpan.FromSeconds(60));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await WaitersAsync(names) >= 2), "the set never joined the lines");

        // The second member's release hands its turn to the set, which waits for the first.
        await other.ReleaseAsync();
        var stopwatch = Stopwatch.StartNew();
        await using (var second = await a.AcquireAsync(names[1], Ttl / 2))
        {
            _output.WriteLine($"the holder of {names[0]} took {names[1]} after {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
            Assert.False(waiting.IsCompleted, "the set was taken while its members were held");
        }

        await first.ReleaseAsync();
        await using var set = await waiting.WaitAsync(Eventually.Patience);
        Assert.Equal(names, set.Resources);
    }

    /// <summary>
    /// Regression (a review, 2026-12-07): a set kept a member after one that was only kept for an
    /// earlier set, which waited for what a holder held; the holder, going on in name order, waited
    /// for the member the second set kept: a circle through two sets, until a timeout. A set now
    /// keeps nothing after the first member it cannot have, held or kept for another.
    /// </summary>
    [Fact]
    public async Task AHolderGoingOnInNameOrder_IsNotKeptWaitingThroughTwoSets()
    {
        var tag = "{" + Guid.NewGuid().ToString("N") + "}";
        string[] names = [tag + "a", tag + "c", tag + "d"];
        await using var holders = await ManagerAsync();
        await using var firstSets = await ManagerAsync();
        await using var secondSets = await ManagerAsync();
        var held = await holders.AcquireAsync(names[1]);

        // The first set keeps a (before c, which is held); the second waits for a, kept for the first.
        var first = firstSets.AcquireAllAsync([names[0], names[1]], TimeSpan.FromSeconds(60));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await WaitersAsync(names) >= 2), "the first set never joined the lines");
        var second = secondSets.AcquireAllAsync([names[0], names[2]], TimeSpan.FromSeconds(60));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await WaitersAsync(names) >= 4), "the second set never joined the lines");

        await using (var next = await holders.AcquireAsync(names[2], Ttl / 2))
        {
            Assert.False(first.IsCompleted || second.IsCompleted, "a set was taken while a member was held");
        }

        await held.ReleaseAsync();
        await using (var firstSet = await first.WaitAsync(Eventually.Patience))
        {
            Assert.False(second.IsCompleted, "both sets held a at once");
        }

        await using var secondSet = await second.WaitAsync(Eventually.Patience);
        Assert.Equal([names[0], names[2]], secondSet.Resources);
    }

    [Fact]
    public async Task AWaiterThatGivesUp_LeavesNothingTakenOrReserved()
    {
        var names = NewNames(3);
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();
        var busy = await a.AcquireAsync(names[2]);

        await Assert.ThrowsAsync<LockTimeoutException>(() => b.AcquireAllAsync(names, TimeSpan.FromMilliseconds(500)));
        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.AcquireAllAsync(names, Timeout.InfiniteTimeSpan, cancel.Token));
        }

        await busy.ReleaseAsync();
        foreach (var name in names)
        {
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await a.InspectAsync(name)) is { HolderId: null, HandingOver: 0, Waiters: 0 }),
                $"{name} kept something of the callers that gave up");
        }

        await using var all = await a.TryAcquireAllAsync(names);
        Assert.NotNull(all);
    }

    /// <summary>Regression: the message said the set, joined, "is still held", not which member kept it waiting.</summary>
    [Fact]
    public async Task ASetThatTimesOut_IsToldWhichMemberWasBusy()
    {
        var names = NewNames(3);
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();
        await using var busy = await a.AcquireAsync(names[1]);

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => b.AcquireAllAsync(names, TimeSpan.FromMilliseconds(300)));

        _output.WriteLine(ex.Message);
        Assert.All(names, name => Assert.Contains($"'{name}'", ex.Message, StringComparison.Ordinal));
        Assert.Contains($"busy: '{names[1]}'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(string.Join(", ", names), ex.Resource);
    }

    [Fact]
    public async Task BadInput_IsRefusedBeforeAnythingIsSent()
    {
        await using var locks = await ManagerAsync();

        Assert.Throws<ArgumentException>("resources", () => new LockRequest(Array.Empty<string>()));
        Assert.Throws<ArgumentException>("resources", () => new LockRequest(["a", " "]));
        Assert.Throws<ArgumentNullException>("resources", () => new LockRequest((IEnumerable<string>)null!));
        Assert.Throws<ArgumentException>("resources", () => new LockRequest(Enumerable.Range(0, LockRequest.MaxResources + 1).Select(i => $"r{i}")));
        await Assert.ThrowsAsync<ArgumentException>("resources", () => locks.AcquireAllAsync([]));
        var nullEntry = await Assert.ThrowsAsync<ArgumentException>("resources", () => locks.TryAcquireAllAsync(["a", null!]));
        Assert.Contains("null", nullEntry.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotSupportedException>(() => locks.AcquireReadAsync(new LockRequest(["a", "b"])));

        Assert.Equal(["a", "b"], new LockRequest(["b", "a", "b"]).Resources);
        Assert.Equal(LockRequest.MaxResources, new LockRequest(Enumerable.Range(0, LockRequest.MaxResources).Select(i => $"r{i}")).Resources.Count);
    }

    [Fact]
    public async Task TheLargestSet_IsTakenAndReleasedWhole()
    {
        var names = NewNames(LockRequest.MaxResources);
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();

        var set = await a.AcquireAllAsync(names);
        Assert.Equal(LockRequest.MaxResources, set.Resources.Count);
        Assert.Null(await b.TryAcquireAsync(names[^1]));
        Assert.True(await set.ReleaseAsync());
        await using var again = await b.TryAcquireAllAsync(names);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task NamesThatShareAHashTag_AreTakenAsASet_AndListedByTheirNames()
    {
        var tag = "{" + Guid.NewGuid().ToString("N") + "}";
        string[] names = [tag + "from", tag + "to"];
        await using var a = await ManagerAsync();
        await using var b = await ManagerAsync();

        await using var set = await a.AcquireAllAsync(names);
        var listed = new List<LockInfo>();
        await foreach (var info in b.ListAsync(tag + "*"))
        {
            listed.Add(info);
        }

        Assert.Equal(names, listed.Select(info => info.Resource).Order(StringComparer.Ordinal));
        Assert.All(listed, info => Assert.Equal(set.HolderId, info.HolderId));
        Assert.Null(await b.TryAcquireAsync(names[1]));
    }

    /// <summary>The waiters in the members' lines, added up; -1 when a look timed out (then nothing is known).</summary>
    /// <summary>
    /// As <see cref="WaitersAsync"/>, but over several nodes the shortest of each resource's lines
    /// (read on connections the managers do not use): how many waiters stand in every node's line.
    /// </summary>
    private async Task<int> ShortestLinesAsync(string[] resources)
    {
        if (_topology is not RedisNodesFixture { NodeCount: > 1 } nodes)
        {
            return await WaitersAsync(resources);
        }

        var total = 0;
        foreach (var resource in resources)
        {
            var line = LockKeyLayout.WaitersKey(new LockKeyLayout(new LockManagerOptions().KeyPrefix).LockKey(resource));
            var lengths = await Task.WhenAll(nodes.Inspectors.Select(n => n.GetDatabase().SortedSetLengthAsync(line)));
            total += (int)lengths.Min();
        }

        return total;
    }

    private async Task<int> WaitersAsync(string[] resources)
    {
        var total = 0;
        foreach (var resource in resources)
        {
            var waiters = await _topology.WaitersAsync(resource);
            if (waiters < 0)
            {
                return -1;
            }

            total += waiters;
        }

        return total;
    }

    /// <summary>A dropped set's handle gives every member up when collected: another caller gets the set long before its TTL.</summary>
    [Fact]
    public async Task DroppedSet_GivesEveryMemberUpWhenCollected_AnotherGetsTheSetLongBeforeItsTtl()
    {
        var ttl = TimeSpan.FromMinutes(4);
        var names = NewNames(3);
        await using var a = await _topology.ConnectAsync(new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(5), Defaults = { Ttl = ttl } });
        await using var b = await ManagerAsync();
        await DroppedHandles.AcquireAndDropAsync(() => a.AcquireAllAsync(names));

        await using var set = await DroppedHandles.UntilGivenUpAsync(b.AcquireAllAsync(names, ttl / 2));

        Assert.Equal(LockState.Held, set.State);
    }
}
