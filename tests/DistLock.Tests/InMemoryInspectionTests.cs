using DistLock.Algorithm;
using DistLock.Tests.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests;

/// <summary>
/// Inspection and operator actions on the in-process manager, answered from its own state on a fake
/// clock that only the test moves: what a lock or a semaphore holds, who waits, the last fencing
/// token, listing by pattern, forced release, and the handover grace a woken waiter gets.
/// </summary>
public sealed class InMemoryInspectionTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Waiting = TimeSpan.FromMinutes(5);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_795_000_000));

    private LockManagerOptions Options(string? label = null) =>
        new() { TimeProvider = _time, Defaults = { Ttl = Ttl, AutoExtend = false, HolderLabel = label } };

    [Fact]
    public async Task InspectAsync_FreeThenHeldThenReleased_ShowsTheHolderAndWhatIsLeftOfItsTtl()
    {
        await using var locks = new InMemoryLockManager(Options(label: "web-1"));

        // LockInfo compares its Readers list by reference: the readers are checked apart.
        var free = await locks.InspectAsync("job");
        Assert.Equal(new LockInfo("job", "lock:{job}", null, 0, null, 0, 0, 0) { Readers = free.Readers }, free);
        Assert.Empty(free.Readers);

        var acquiredAt = _time.GetUtcNow();
        var handle = await locks.AcquireAsync("job");
        _time.Advance(TimeSpan.FromSeconds(2));
        var held = await locks.InspectAsync("job");
        Assert.Equal(new LockInfo("job", handle.Key, handle.HolderId, 0, Ttl - TimeSpan.FromSeconds(2), 0, 0, 1) { Readers = held.Readers }, held);
        Assert.Empty(held.Readers);
        Assert.Equal("web-1", held.HolderLabel);
        Assert.Equal(acquiredAt, held.HeldSince);

        Assert.True(await handle.ReleaseAsync());
        Assert.Null((await locks.InspectAsync("job")).HolderId);
        Assert.Equal(new QuorumStatus(1, 1), await locks.CheckNodesAsync());
    }

    [Fact]
    public async Task InspectAsync_ReadLocked_ListsEveryReaderAndNoHolder()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var first = await locks.AcquireReadAsync("doc");
        _time.Advance(TimeSpan.FromSeconds(1));
        await using var second = await locks.AcquireReadAsync("doc");

        var info = await locks.InspectAsync("doc");

        Assert.Null(info.HolderId);
        Assert.Equal(0, info.HandingOver);
        Assert.Equal([new LockHolder(first.HolderId, Ttl - TimeSpan.FromSeconds(1)), new LockHolder(second.HolderId, Ttl)], info.Readers);
    }

    [Fact]
    public async Task InspectAsync_Waiters_FollowsTheLineAsWaitersComeAndGo()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var one = new InMemoryLockManager(locks, Options());
        await using var two = new InMemoryLockManager(locks, Options());
        await using var held = await locks.AcquireAsync("job");
        using var giveUp = new CancellationTokenSource();

        var waiting = one.AcquireAsync("job", Waiting, giveUp.Token);
        await Eventually.InLineAsync(locks, "job", 1);
        var reading = two.AcquireReadAsync("job", Waiting);
        await Eventually.InLineAsync(locks, "job", 2);
        await giveUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Eventually.InLineAsync(locks, "job", 1);
        await held.ReleaseAsync();
        await using var reader = await reading.WaitAsync(Eventually.Patience);
        Assert.Equal(0, (await locks.InspectAsync("job")).Waiters);
    }

    [Fact]
    public async Task LastFencingToken_RisesWithEachTokenHandedOut_AndOutlivesTheHold()
    {
        await using var locks = new InMemoryLockManager(Options());
        var first = await locks.AcquireAsync("job");
        Assert.Equal(0, (await locks.InspectAsync("job")).LastFencingToken); // tokens are made on demand

        var token = await first.GetFencingTokenAsync();
        Assert.Equal(token, (await locks.InspectAsync("job")).LastFencingToken);
        await first.ReleaseAsync();
        Assert.Equal(token, (await locks.InspectAsync("job")).LastFencingToken);

        await using var second = await locks.AcquireAsync("job");
        var next = await second.GetFencingTokenAsync();
        Assert.True(next > token, $"{next} after {token}");
        Assert.Equal(next, (await locks.InspectAsync("job")).LastFencingToken);
    }

    [Fact]
    public async Task InspectSemaphoreAsync_ShowsHoldersFreePermitsWaitersAndTheLastToken()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var other = new InMemoryLockManager(locks, Options());
        var unused = await locks.InspectSemaphoreAsync("pool");
        Assert.Equal(0, unused.MaxCount); // not known until someone holds it
        Assert.Empty(unused.Holders);

        var a = await locks.AcquireSemaphoreAsync("pool", 3);
        _time.Advance(TimeSpan.FromSeconds(1));
        await using var b = await locks.AcquireSemaphoreAsync("pool", 3);
        var token = await b.GetFencingTokenAsync();
        var two = await locks.InspectSemaphoreAsync("pool");
        Assert.Equal(3, two.MaxCount);
        Assert.Equal([new LockHolder(a.HolderId, Ttl - TimeSpan.FromSeconds(1)), new LockHolder(b.HolderId, Ttl)], two.Holders);
        Assert.Equal(1, two.FreePermits);
        Assert.Equal((0, 0, token), (two.Waiters, two.HandingOver, two.LastFencingToken));

        await using var c = await locks.AcquireSemaphoreAsync("pool", 3);
        var waiting = other.AcquireSemaphoreAsync("pool", 3, Waiting);
        await Eventually.InSemaphoreLineAsync(locks, "pool", 1);
        Assert.Equal(0, (await locks.InspectSemaphoreAsync("pool")).FreePermits);

        await a.ReleaseAsync();
        await using var w = await waiting.WaitAsync(Eventually.Patience);
        var full = await locks.InspectSemaphoreAsync("pool");
        Assert.Equal(new[] { b.HolderId, c.HolderId, w.HolderId }.Order(), full.Holders.Select(h => h.HolderId).Order());
        Assert.Equal(0, full.Waiters);
    }

    [Fact]
    public async Task ListAsync_Pattern_ListsTheHeldLocksWhoseResourceMatches()
    {
        await using var locks = new InMemoryLockManager(Options());
        var first = await locks.AcquireAsync("orders:1");
        await using var second = await locks.AcquireAsync("orders:2");
        await using var read = await locks.AcquireReadAsync("orders:3");
        await using var user = await locks.AcquireAsync("users:1");
        await using var permit = await locks.AcquireSemaphoreAsync("orders:pool", 2); // a semaphore, not a lock

        Assert.Equal(["orders:1", "orders:2", "orders:3"], await ResourcesAsync(locks, "orders:*"));
        Assert.Equal(["orders:1", "orders:2", "orders:3", "users:1"], await ResourcesAsync(locks));
        Assert.Equal(["users:1"], await ResourcesAsync(locks, "users:?"));

        await first.ReleaseAsync();
        Assert.Equal(["orders:2", "orders:3"], await ResourcesAsync(locks, "orders:*"));
        Assert.Equal(second.HolderId, (await locks.ListAsync("orders:2").SingleAsync()).HolderId);
    }

    [Fact]
    public async Task ForceReleaseAsync_HeldLock_WakesTheWaiterAndTheHolderLosesIt()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var other = new InMemoryLockManager(locks, Options());
        var stuck = await locks.AcquireAsync("job");
        var waiting = other.AcquireAsync("job", Waiting);
        await Eventually.InLineAsync(locks, "job", 1);

        Assert.True(await locks.ForceReleaseAsync("job"));

        // The fake clock stands still: only the wake the forced release sends lets the waiter in.
        await using var next = await waiting.WaitAsync(Eventually.Patience);
        Assert.Equal(next.HolderId, (await locks.InspectAsync("job")).HolderId);
        Assert.False(await stuck.ExtendAsync());
        Assert.Equal(LockState.Lost, stuck.State);
        Assert.True(stuck.LostToken.IsCancellationRequested);
        Assert.False(await locks.ForceReleaseAsync("free"));
    }

    [Fact]
    public async Task ForceReleaseSemaphoreAsync_OneHolderOrAll_WakesAWaiterForEachPermitFreed()
    {
        await using var locks = new InMemoryLockManager(Options());
        await using var other = new InMemoryLockManager(locks, Options());
        var stuck = await locks.AcquireSemaphoreAsync("pool", 2);
        await using var b = await locks.AcquireSemaphoreAsync("pool", 2);
        var waiting = other.AcquireSemaphoreAsync("pool", 2, Waiting);
        await Eventually.InSemaphoreLineAsync(locks, "pool", 1);

        Assert.Equal(1, await locks.ForceReleaseSemaphoreAsync("pool", stuck.HolderId));

        await using var w = await waiting.WaitAsync(Eventually.Patience);
        Assert.Equal(new[] { b.HolderId, w.HolderId }.Order(), (await locks.InspectSemaphoreAsync("pool")).Holders.Select(h => h.HolderId).Order());
        Assert.False(await stuck.ExtendAsync());
        Assert.Equal(LockState.Lost, stuck.State);
        Assert.Equal(0, await locks.ForceReleaseSemaphoreAsync("pool", stuck.HolderId));
        Assert.Equal(2, await locks.ForceReleaseSemaphoreAsync("pool"));
        Assert.Empty((await locks.InspectSemaphoreAsync("pool")).Holders);
        await Assert.ThrowsAsync<ArgumentException>("holderId", () => locks.ForceReleaseSemaphoreAsync("pool", "reserved:queue"));
    }

    /// <summary>
    /// A waiter that stalled after it was woken holds up the lock for exactly the handover grace,
    /// whatever RetryDelay is. The grace used to be RetryDelay clamped to 10 ms..1 s, which would
    /// have reserved the lock for 1 s in the first case and 10 ms in the second.
    /// </summary>
    [Theory]
    [InlineData(5, 1000)]
    [InlineData(2000, 1)]
    public async Task HandoffGrace_StalledWaiterWoken_KeepsTheLockReservedForTheGrace_WhateverRetryDelay(int graceMs, int retryDelayMs)
    {
        var grace = TimeSpan.FromMilliseconds(graceMs);
        var options = Options();
        options.HandoffGrace = grace;
        options.Defaults.RetryDelay = TimeSpan.FromMilliseconds(retryDelayMs);
        await using var locks = new InMemoryLockManager(options);
        var holder = await locks.AcquireAsync("job");
        await using var stalled = await StalledWaiterAsync(locks, "job");

        Assert.True(await holder.ReleaseAsync());
        var reserved = await locks.InspectAsync("job");

        Assert.Equal(1, reserved.HandingOver);
        Assert.Equal(grace, reserved.RemainingTtl);
        Assert.Null(reserved.HolderLabel);
        _time.Advance(grace - TimeSpan.FromMilliseconds(1));
        Assert.Null(await locks.TryAcquireAsync("job"));
        _time.Advance(TimeSpan.FromMilliseconds(2));
        await using var next = await locks.TryAcquireAsync("job");
        Assert.NotNull(next);
    }

    [Fact]
    public async Task HandoffGrace_LiveWaiterBehindAStalledOne_GetsTheLockAfterTheGraceNotAfterRetryDelay()
    {
        var grace = TimeSpan.FromMilliseconds(20);
        var options = Options();
        options.HandoffGrace = grace;
        options.Defaults.RetryDelay = TimeSpan.FromHours(1); // the old grace would have been 1 s
        await using var locks = new InMemoryLockManager(options);
        await using var other = new InMemoryLockManager(locks, options);
        var holder = await locks.AcquireAsync("job");
        await using var stalled = await StalledWaiterAsync(locks, "job");
        var waiting = other.AcquireAsync("job", Waiting);
        await Eventually.InLineAsync(locks, "job", 2);

        var releasedAt = _time.GetUtcNow();
        Assert.True(await holder.ReleaseAsync());
        await using var next = await _time.AdvanceUntilDoneAsync(waiting, TimeSpan.FromMilliseconds(1));

        // At least the grace (the lock is the stalled waiter's until then), and well short of the old 1 s.
        var waited = _time.GetUtcNow() - releasedAt;
        Assert.InRange(waited, grace, TimeSpan.FromMilliseconds(900));
    }

    /// <summary>
    /// Puts a waiter in the lock's line that listens for its turn and never claims it, as a process
    /// that stalled (or paused) after taking its place would: a release then reserves the lock for it.
    /// </summary>
    private static async Task<INodeSubscription> StalledWaiterAsync(InMemoryLockManager locks, string resource)
    {
        var node = locks.Protocol.Nodes[0];
        var hold = new LockHold((await locks.InspectAsync(resource)).Key, LockMode.Exclusive);
        var listening = await hold.SubscribeAsync(node, "stalled", onWake: _ => { }, onNews: _ => { });
        var joined = await hold.AcquireAsync(node, "stalled-holder", Ttl, queue: "stalled", stay: false, arrival: 1);
        Assert.Equal(NodeReply.Denied, joined.Reply); // held: it took a place in line instead
        return listening;
    }

    private static async Task<List<string>> ResourcesAsync(ILockManager locks, string pattern = "*")
    {
        var resources = new List<string>();
        await foreach (var info in locks.ListAsync(pattern))
        {
            resources.Add(info.Resource);
        }

        resources.Sort(StringComparer.Ordinal);
        return resources;
    }
}
