using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Transport;

/// <summary>The in-memory node keeps the scripts' rules for idle state and fencing counters.</summary>
public sealed class InMemoryLockNodeTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task IdleState_IsSwept_AndTokensKeepRising()
    {
        var node = new InMemoryLockNode(_time, TimeSpan.FromMilliseconds(50), idleExpiry: TimeSpan.FromMinutes(1));
        var first = (await node.TryAcquireAsync(LockTarget.Exclusive("again"), "v", TimeSpan.FromSeconds(1), "")).Fence;
        for (var i = 0; i < 20_000; i++)
        {
            await node.TryAcquireAsync(LockTarget.Exclusive("entity:" + i), "v", TimeSpan.FromSeconds(1), "");
            await node.ReleaseAsync(LockTarget.Exclusive("entity:" + i), "v", "n");
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        for (var i = 0; i < 2_000; i++)
        {
            await node.TryAcquireAsync(LockTarget.Exclusive("later:" + i), "v", TimeSpan.FromSeconds(1), "");
        }

        Assert.True(node.Entries < 10_000, $"{node.Entries} entries kept after the idle period");
        var again = (await node.TryAcquireAsync(LockTarget.Exclusive("again"), "w", TimeSpan.FromSeconds(1), "")).Fence;
        Assert.True(again > first, $"token {again} after the counter was forgotten, {first} before");
    }

    [Fact]
    public async Task StalledHead_IsMovedBack_TheNextGetsAStandby_AndItIsDroppedWhenItsTurnComesAgain()
    {
        var node = new InMemoryLockNode(_time, TimeSpan.FromMilliseconds(50));
        var wakes = new List<(string Waiter, string? Notice)>();
        await node.TryAcquireAsync(LockTarget.Exclusive("k"), "holder", TimeSpan.FromSeconds(10), "");
        foreach (var waiter in new[] { "stalled", "live" })
        {
            await node.SubscribeAsync("k", waiter, notice => { lock (wakes) { wakes.Add((waiter, notice)); } });
            await node.TryAcquireAsync(LockTarget.Exclusive("k"), waiter, TimeSpan.FromSeconds(10), waiter);
        }

        await node.ReleaseAsync(LockTarget.Exclusive("k"), "holder", "n1");
        await WaitForAsync(() => wakes.Count == 2);
        Assert.Contains(("stalled", "n1"), wakes);
        Assert.Contains(("live", DistLock.Algorithm.ReleaseNotice.Standby("n1")), wakes);

        // The reservation runs out unclaimed; the standby waiter takes the lock.
        _time.Advance(TimeSpan.FromMilliseconds(60));
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(LockTarget.Exclusive("k"), "live", TimeSpan.FromSeconds(10), "live")).Reply);

        // At the next release the stalled waiter, marked and silent since, is dropped, not woken.
        wakes.Clear();
        await node.ReleaseAsync(LockTarget.Exclusive("k"), "live", "n2");
        Assert.Empty(wakes);
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(LockTarget.Exclusive("k"), "newcomer", TimeSpan.FromSeconds(10), "")).Reply);
    }

    [Fact]
    public async Task ReadersHold_AWriterNobodyListensFor_DoesNotHoldNewReadersBack_ALiveOneDoes()
    {
        var node = new InMemoryLockNode(_time, TimeSpan.FromMilliseconds(50));
        var read = new LockTarget("k", LockMode.Read);
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(read, "r1", TimeSpan.FromSeconds(10), "")).Reply);

        // A writer that joined the line and died: its place stays, nobody listens on its channel.
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(LockTarget.Exclusive("k"), "dead", TimeSpan.FromSeconds(10), "dead")).Reply);
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(read, "r2", TimeSpan.FromSeconds(10), "")).Reply);

        await using var listening = await node.SubscribeAsync("k", "live", _ => { });
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(LockTarget.Exclusive("k"), "live", TimeSpan.FromSeconds(10), "live")).Reply);
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(read, "r3", TimeSpan.FromSeconds(10), "")).Reply);
    }

    [Fact]
    public async Task ReadersHold_AReaderBehindAWriterThatDied_IsWokenByTheNextReaderIn()
    {
        var node = new InMemoryLockNode(_time, TimeSpan.FromMilliseconds(50));
        var read = new LockTarget("k", LockMode.Read);
        var queue = LockTarget.ReaderWaiterPrefix + "q";
        var wakes = new List<string?>();
        await node.TryAcquireAsync(read, "r1", TimeSpan.FromSeconds(10), "");
        var writer = await node.SubscribeAsync("k", "w", _ => { });
        await node.TryAcquireAsync(LockTarget.Exclusive("k"), "w", TimeSpan.FromSeconds(10), "w");
        await using var reader = await node.SubscribeAsync("k", queue, notice => { lock (wakes) { wakes.Add(notice); } });
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(read, "r2", TimeSpan.FromSeconds(10), queue)).Reply);

        await writer.DisposeAsync();
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(read, "r3", TimeSpan.FromSeconds(10), "")).Reply);

        await WaitForAsync(() => { lock (wakes) { return wakes.Count > 0; } });
        Assert.Single(wakes);
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(read, "r2", TimeSpan.FromSeconds(10), queue)).Reply);
    }

    [Fact]
    public async Task LastReaderOut_WhileAWokenReaderHasNotCome_TheWriterBehindGetsAStandby()
    {
        var node = new InMemoryLockNode(_time, TimeSpan.FromMilliseconds(50));
        var read = new LockTarget("k", LockMode.Read);
        var notices = new List<(string Waiter, string? Notice)>();
        Action<string?> Record(string waiter) => notice => { lock (notices) { notices.Add((waiter, notice)); } };
        await node.TryAcquireAsync(LockTarget.Exclusive("k"), "holder", TimeSpan.FromSeconds(10), "");
        var stalled = LockTarget.ReaderWaiterPrefix + "stalled";
        var live = LockTarget.ReaderWaiterPrefix + "live";
        foreach (var queue in new[] { stalled, live })
        {
            await node.SubscribeAsync("k", queue, Record(queue));
            await node.TryAcquireAsync(read, queue + "-reader", TimeSpan.FromSeconds(10), queue);
        }

        await node.ReleaseAsync(LockTarget.Exclusive("k"), "holder", "n1");
        Assert.Equal(NodeReply.Granted, (await node.TryAcquireAsync(read, "live-reader", TimeSpan.FromSeconds(10), live)).Reply);
        await node.SubscribeAsync("k", "writer", Record("writer"));
        Assert.Equal(NodeReply.Denied, (await node.TryAcquireAsync(LockTarget.Exclusive("k"), "writer", TimeSpan.FromSeconds(10), "writer")).Reply);

        await node.ReleaseAsync(read, "live-reader", "n2");

        await WaitForAsync(() => { lock (notices) { return notices.Any(n => n.Waiter == "writer"); } });
        Assert.Contains(("writer", ReleaseNotice.Standby("n2")), notices);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }
}
