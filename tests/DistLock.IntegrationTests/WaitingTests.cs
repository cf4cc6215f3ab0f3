using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Waiting without spin loops, on every topology: a waiter sleeps until a release is announced
/// (or the holder's TTL runs out). RetryDelay is set to 10 s and the TTL to 30 s here, so a
/// waiter that polled, or missed an announcement, would time out.
/// </summary>
/// <remarks>Through <see cref="ILockManager"/> only; <see cref="RedisWaitingTests"/> watches the wake channels.</remarks>
public abstract class WaitingTests
{
    // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
    // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out.
    private static readonly LockManagerOptions Patient = new() { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { RetryDelay = TimeSpan.FromSeconds(10), Ttl = TimeSpan.FromSeconds(30) } };
    private readonly ILockTopology _nodes;

    protected WaitingTests(ILockTopology topology) => _nodes = topology;

    private static string NewResource() => "wait-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task AcquireAsync_HolderReleases_WaiterWokenWithoutWaitingForRetryDelay()
    {
        await using var holder = await _nodes.ConnectAsync(Patient);
        await using var waiter = await _nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var held = await holder.AcquireAsync(resource);
        var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(20));
        // The waiter asleep in line, so that the release, not its first attempt, is what it acquires on.
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await _nodes.WaitersAsync(resource) > 0), "the waiter never joined the line");

        var stopwatch = Stopwatch.StartNew();
        await held.ReleaseAsync();
        await using var handle = await waiting;

        // Well under the 10 s retry delay, with room for a loaded machine's stalls (up to 2 s seen).
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"woken after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task AcquireAsync_HolderCrashes_LockTakenAfterItsTtl()
    {
        var crashed = await _nodes.ConnectAsync(Patient);
        await using var waiter = await _nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var stale = await crashed.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(500) });
        await crashed.DisposeAsync(); // gone without releasing, as a killed process would be

        await using var handle = await waiter.AcquireAsync(resource, TimeSpan.FromSeconds(20));

        Assert.True(TimeProvider.System.GetUtcNow() >= stale.ValidUntil);
        Assert.True(handle.AcquireDelay < TimeSpan.FromSeconds(8), $"taken after {handle.AcquireDelay}"); // the retry delay is 10 s
    }

    [Fact]
    public async Task AcquireAsync_FiniteMaxRetries_AttemptsAreRetryDelayApart()
    {
        // The seeds' meaning: MaxRetries + 1 attempts, RetryDelay apart (each pause drawn from half
        // of it to all of it), not a retry spent at once on joining the line.
        var counted = new LockManagerOptions { Defaults = { MaxRetries = 1, RetryDelay = TimeSpan.FromMilliseconds(400), Ttl = TimeSpan.FromSeconds(30) } };
        await using var holder = await _nodes.ConnectAsync(Patient);
        await using var waiter = await _nodes.ConnectAsync(counted);
        var resource = NewResource();
        await using var held = await holder.AcquireAsync(resource);

        var stopwatch = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<LockTimeoutException>(() => waiter.AcquireAsync(resource, TimeSpan.FromSeconds(10)));

        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(190), $"gave up after {stopwatch.Elapsed}: the retry did not wait");
        Assert.Equal(2, refused.Attempts);
    }

    [Fact]
    public async Task AcquireAsync_ReleaseRacesWithSubscribe_NoWakeUpIsLost()
    {
        await using var holder = await _nodes.ConnectAsync(Patient);
        await using var waiter = await _nodes.ConnectAsync(Patient);
        var resource = NewResource();
        for (var i = 0; i < 25; i++)
        {
            var held = await holder.AcquireAsync(resource, TimeSpan.FromSeconds(5));
            var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(4));
            await Task.Delay(i % 5); // release at varying points of the waiter's first attempt and subscribe
            await held.ReleaseAsync();

            var handle = await waiting; // a lost wake-up would sleep to the 30 s TTL and time out
            await handle.ReleaseAsync();
        }
    }

    [Fact]
    public async Task AcquireAsync_LocalWaiters_AcquireInArrivalOrder()
    {
        await using var holder = await _nodes.ConnectAsync(Patient);
        await using var waiter = await _nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var held = await holder.AcquireAsync(resource);
        var order = new List<int>();

        async Task WaitAsync(int number)
        {
            var handle = await waiter.AcquireAsync(resource, TimeSpan.FromSeconds(10));
            lock (order)
            {
                order.Add(number);
            }

            await handle.ReleaseAsync();
        }

        // The first waiter makes an attempt of its own before it queues, so one that came meanwhile
        // could overtake it; once it is in line, the manager's queue exists and each later caller
        // joins it as it calls (a sleep between them was too short on a loaded machine).
        var waiting = new List<Task> { WaitAsync(0) };
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await _nodes.WaitersAsync(resource) > 0), "the first waiter never joined the line");
        for (var i = 1; i < 5; i++)
        {
            waiting.Add(WaitAsync(i));
        }

        await held.ReleaseAsync();
        await Task.WhenAll(waiting);

        Assert.Equal([0, 1, 2, 3, 4], order);
    }
}
