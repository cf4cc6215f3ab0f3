using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Transport;

/// <summary>The in-memory node keeps the semaphore scripts' rules (permits.lua and the scripts that include it), on a fake clock.</summary>
public sealed class InMemorySemaphoreNodeTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(50);
    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryLockNode _node;

    public InMemorySemaphoreNodeTests() => _node = new InMemoryLockNode(_time, Grace);

    private static LockTarget Semaphore(int maxCount) => new("s", LockMode.Semaphore, maxCount);

    private Task<NodeResult> AcquireAsync(string id, int maxCount = 2, string waiter = "", TimeSpan? ttl = null) =>
        _node.TryAcquireAsync(Semaphore(maxCount), id, ttl ?? TimeSpan.FromSeconds(10), waiter);

    [Fact]
    public async Task TryAcquire_PermitsTaken_RefusedWithTimeUntilTheFirstEntryRunsOut()
    {
        await AcquireAsync("a", ttl: TimeSpan.FromSeconds(3));
        await AcquireAsync("b", ttl: TimeSpan.FromSeconds(5));

        var refused = await AcquireAsync("c");

        Assert.Equal(NodeReply.Denied, refused.Reply);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.HolderTtl);
    }

    [Fact]
    public async Task TryAcquire_HolderLeaseRunsOut_ItsPermitComesBack_AndItCannotExtend()
    {
        await AcquireAsync("a", ttl: TimeSpan.FromSeconds(1));
        await AcquireAsync("b");

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(NodeReply.Granted, (await AcquireAsync("c")).Reply);
        Assert.Equal(NodeReply.Denied, (await _node.ExtendAsync(Semaphore(2), "a", TimeSpan.FromSeconds(10))).Reply);
        Assert.Equal(NodeReply.Granted, (await _node.ExtendAsync(Semaphore(2), "b", TimeSpan.FromSeconds(10))).Reply);
        Assert.Equal(NodeReply.Denied, (await _node.ReleaseAsync(Semaphore(2), "a", "n")).Reply);
    }

    [Fact]
    public async Task TryAcquire_OtherMaxCountWhileHeld_Rejected_ThenTheNextCallersMaxCountWins()
    {
        await AcquireAsync("a", maxCount: 2);

        var rejected = await AcquireAsync("b", maxCount: 3);

        Assert.Equal(NodeReply.Failed, rejected.Reply);
        var error = Assert.IsType<ArgumentException>(rejected.Error);
        Assert.Equal("maxCount", error.ParamName);
        Assert.Contains("maxCount 2", error.Message, StringComparison.Ordinal);

        await _node.ReleaseAsync(Semaphore(2), "a", "n");
        Assert.Equal(NodeReply.Granted, (await AcquireAsync("b", maxCount: 3)).Reply);
        Assert.Equal(3, _node.InspectSemaphore("s").Limit);
    }

    [Fact]
    public async Task Release_WakesOneWaiter_AndReservesThePermitForItAgainstNewcomers()
    {
        var wakes = new List<(string Waiter, string? Notice)>();
        await AcquireAsync("a");
        await AcquireAsync("b");
        foreach (var waiter in new[] { "w1", "w2" })
        {
            await _node.SubscribeAsync("s", waiter, notice => { lock (wakes) { wakes.Add((waiter, notice)); } });
            await AcquireAsync(waiter, waiter: waiter);
        }

        await _node.ReleaseAsync(Semaphore(2), "a", "n1");
        await WaitForAsync(() => wakes.Count == 2);

        Assert.Contains(("w1", "n1"), wakes);
        Assert.Contains(("w2", ReleaseNotice.Standby("n1")), wakes);
        Assert.Equal(NodeReply.Denied, (await AcquireAsync("newcomer")).Reply);
        Assert.Equal(NodeReply.Denied, (await AcquireAsync("w2", waiter: "w2")).Reply);
        Assert.Equal(NodeReply.Granted, (await AcquireAsync("w1", waiter: "w1")).Reply);
        var (_, entries, waiters, _) = _node.InspectSemaphore("s");
        Assert.Equal(["b", "w1"], entries.Select(e => e.Id).Order());
        Assert.Equal(1, waiters);
    }

    [Fact]
    public async Task Reservation_Unclaimed_RunsOutAfterTheGrace()
    {
        await AcquireAsync("a", maxCount: 1);
        await _node.SubscribeAsync("s", "w", _ => { });
        await AcquireAsync("w", maxCount: 1, waiter: "w");
        await _node.ReleaseAsync(Semaphore(1), "a", "n");
        Assert.Equal(NodeReply.Denied, (await AcquireAsync("newcomer", maxCount: 1)).Reply);

        _time.Advance(Grace);

        Assert.Equal(NodeReply.Granted, (await AcquireAsync("newcomer", maxCount: 1)).Reply);
    }

    [Fact]
    public async Task PassOn_DepartingWaiterGivesBackItsReservation_ToTheNextWaiter()
    {
        var woken = new List<string>();
        await AcquireAsync("a", maxCount: 1);
        foreach (var waiter in new[] { "leaving", "next" })
        {
            await _node.SubscribeAsync("s", waiter, notice => { lock (woken) { woken.Add(waiter + " " + notice); } });
            await AcquireAsync(waiter, maxCount: 1, waiter: waiter);
        }

        await _node.ReleaseAsync(Semaphore(1), "a", "n1");
        await _node.PassOnAsync(Semaphore(1), "leaving", "n2");
        await WaitForAsync(() => woken.Contains("next n2"));

        Assert.Equal(NodeReply.Granted, (await AcquireAsync("next", maxCount: 1, waiter: "next")).Reply);
        Assert.Equal(0, _node.InspectSemaphore("s").Waiters);
    }

    [Fact]
    public async Task PassOn_NoLiveEntryLeft_ReservesForTheNextWaiter_WhoseMaxCountBecomesTheLimit()
    {
        var woken = new List<string>();
        await AcquireAsync("a", maxCount: 1, ttl: TimeSpan.FromSeconds(1));
        foreach (var waiter in new[] { "leaving", "next" })
        {
            await _node.SubscribeAsync("s", waiter, notice => { lock (woken) { woken.Add(waiter); } });
            await AcquireAsync(waiter, maxCount: 1, waiter: waiter);
        }

        _time.Advance(TimeSpan.FromSeconds(1)); // the holder's lease runs out: nothing is live
        await _node.PassOnAsync(Semaphore(1), "leaving", "n");
        await WaitForAsync(() => woken.Contains("next"));

        Assert.Equal(NodeReply.Denied, (await AcquireAsync("newcomer", maxCount: 1)).Reply);
        Assert.Equal(NodeReply.Granted, (await AcquireAsync("next", maxCount: 1, waiter: "next")).Reply);
        Assert.Equal(1, _node.InspectSemaphore("s").Limit);
    }

    [Fact]
    public async Task PassOn_NoFreePermit_WakesNobody()
    {
        var woken = 0;
        await AcquireAsync("a", maxCount: 1);
        await _node.SubscribeAsync("s", "next", _ => Interlocked.Increment(ref woken));
        await AcquireAsync("next", maxCount: 1, waiter: "next");

        await _node.PassOnAsync(Semaphore(1), "leaving", "n");

        Assert.Equal(0, Volatile.Read(ref woken));
        Assert.Equal(1, _node.InspectSemaphore("s").Waiters);
    }

    [Fact]
    public async Task Tokens_RiseWithEveryPermit()
    {
        var first = (await AcquireAsync("a")).Fence;
        var second = (await AcquireAsync("b")).Fence;
        await _node.ReleaseAsync(Semaphore(2), "a", "n");
        var third = (await AcquireAsync("c")).Fence;

        Assert.True(first < second && second < third, $"{first}, {second}, {third}");
    }

    [Fact]
    public async Task IdleSemaphores_AreSwept()
    {
        for (var i = 0; i < 5_000; i++)
        {
            await _node.TryAcquireAsync(new LockTarget("s:" + i, LockMode.Semaphore, 2), "v", TimeSpan.FromSeconds(1), "");
        }

        _time.Advance(TimeSpan.FromDays(2));
        for (var i = 0; i < 2_000; i++)
        {
            await _node.TryAcquireAsync(LockTarget.Exclusive("later:" + i), "v", TimeSpan.FromSeconds(1), "");
        }

        Assert.True(_node.Entries < 5_000, $"{_node.Entries} entries kept after the idle period");
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }
}
