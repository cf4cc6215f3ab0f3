using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Waiting as Redis sees it: one wake-channel subscription per queue of local waiters, dropped when
/// the queue ends. The rest of waiting is in <see cref="WaitingTests"/>.
/// </summary>
public abstract class RedisWaitingTests
{
    // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
    // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out.
    private static readonly RedisLockManagerOptions Patient = new() { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { RetryDelay = TimeSpan.FromSeconds(10), Ttl = TimeSpan.FromSeconds(30) } };
    private readonly RedisNodesFixture _nodes;

    protected RedisWaitingTests(RedisNodesFixture nodes) => _nodes = nodes;

    private static string NewResource() => "wait-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task AcquireAsync_ManyLocalWaiters_ShareOneSubscriptionDroppedAtTheEnd()
    {
        await using var holder = await _nodes.ConnectAsync(Patient);
        await using var waiter = await _nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var channels = $"lock:{{{resource}}}:wake:*";
        var held = await holder.AcquireAsync(resource);

        var waiters = Enumerable.Range(0, 10).Select(async _ =>
        {
            var handle = await waiter.AcquireAsync(resource, TimeSpan.FromSeconds(10));
            await handle.ReleaseAsync();
        }).ToList();
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await _nodes.ChannelsAsync(channels)).All(n => n == 1)));
        Assert.All(await _nodes.ChannelsAsync(channels), n => Assert.Equal(1, n));

        await held.ReleaseAsync();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await _nodes.ChannelsAsync(channels)).All(n => n == 0)));
    }

    [Fact]
    public async Task AcquireReadAsync_LocalReadersBehindAWriter_ShareOneSubscription_AndGoInTogether()
    {
        await using var writers = await _nodes.ConnectAsync(Patient);
        await using var readers = await _nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var channels = $"lock:{{{resource}}}:wake:*";
        var writer = await writers.AcquireAsync(resource);
        var inside = 0;
        var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var waiting = Enumerable.Range(0, 10).Select(async _ =>
        {
            await using var reader = await readers.AcquireReadAsync(resource, TimeSpan.FromSeconds(10));
            if (Interlocked.Increment(ref inside) == 10)
            {
                allIn.SetResult();
            }

            await allIn.Task.WaitAsync(TimeSpan.FromSeconds(10)); // held together, or not at all
        }).ToList();
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await _nodes.ChannelsAsync(channels)).Sum() == _nodes.NodeCount));

        await writer.ReleaseAsync();
        await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(allIn.Task.IsCompletedSuccessfully, "the ten readers held the lock at once");
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await _nodes.ChannelsAsync(channels)).All(n => n == 0)));
    }

    [Fact]
    public async Task AcquireAsync_AgainRightAfterAContendedAcquisition_IsWokenByTheNextRelease()
    {
        // With one node the waiter's queue outlives the first acquisition and is used again.
        await using var holder = await _nodes.ConnectAsync(Patient);
        await using var waiter = await _nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var channels = $"lock:{{{resource}}}:wake:*";
        for (var round = 0; round < 3; round++)
        {
            var held = await holder.AcquireAsync(resource);
            var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(5));
            // From the second round the lingering queue is subscribed already: wait for the waiter in line too.
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await _nodes.ChannelsAsync(channels)).All(n => n == 1) && await _nodes.WaitersAsync(resource) > 0));
            await held.ReleaseAsync();

            var handle = await waiting; // a wake that missed the queue would leave it asleep past the timeout
            await handle.ReleaseAsync();
        }

        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await _nodes.ChannelsAsync(channels)).All(n => n == 0)));
    }

    [Fact]
    public async Task DisposeAsync_ManagerOnTheCallersConnections_LeavesNoWakeChannelBehind()
    {
        var connections = await Task.WhenAll(_nodes.Endpoints.Select(e => StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(e)));
        try
        {
            await using var holder = await _nodes.ConnectAsync(Patient);
            var waiter = new RedisLockManager(connections, Patient);
            var resource = NewResource();
            var channels = $"lock:{{{resource}}}:wake:*";
            var held = await holder.AcquireAsync(resource);
            var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(5));
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await _nodes.ChannelsAsync(channels)).All(n => n == 1)));
            await held.ReleaseAsync();
            await (await waiting).ReleaseAsync();

            await waiter.DisposeAsync();

            // The connections stay open, so what the manager subscribed to must be dropped by the manager.
            Assert.True(await Eventually.TrueWithinAsync(
                TimeSpan.FromMilliseconds(WaitQueuesLingerMs / 2), async () => (await _nodes.ChannelsAsync(channels)).All(n => n == 0)));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AcquireAsync_ShortHoldsFromSeveralManagers_NoWaiterSleepsWhileOthersTakeTurns()
    {
        // On Redlock a waiter's attempt can reach a node before the release it was woken for: that
        // node then hands the turn over with the same notice, and takes the waiter out of its line.
        // If that wake did not end the waiter's sleep, the waiter stood in no line and slept a TTL
        // at a time (each holder's "taken" news put its look off again) while others took turns in
        // milliseconds. Nine workers on three managers, single locks and sets of both names, holds
        // of 0-3 ms: a wait near the TTL is that stall (a warm-up on a busy machine takes about 1 s).
        var ttl = TimeSpan.FromSeconds(5);
        var options = new RedisLockManagerOptions { Defaults = { Ttl = ttl } };
        var managers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => _nodes.ConnectAsync(options)));
        try
        {
            var resource = NewResource();
            var names = new[] { resource, resource + "-b" };
            var slow = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var acquisitions = 0;
            var run = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 9).Select(async worker =>
            {
                var random = new Random(worker);
                var locks = managers[worker % 3];
                while (run.Elapsed < TimeSpan.FromSeconds(6))
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await using (worker % 3 == 2
                        ? await locks.AcquireAllAsync(names, TimeSpan.FromSeconds(30))
                        : await locks.AcquireAsync(names[worker % 2], TimeSpan.FromSeconds(30)))
                    {
                        var waited = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                        if (waited >= ttl / 2)
                        {
                            slow.Enqueue($"worker {worker} waited {waited.TotalMilliseconds:F0} ms");
                        }

                        Interlocked.Increment(ref acquisitions);
                        await Task.Delay(random.Next(0, 4));
                    }
                }
            }));

            Assert.True(slow.IsEmpty, $"{string.Join(", ", slow)} ({acquisitions} acquisitions, TTL {ttl.TotalMilliseconds} ms)");
        }
        finally
        {
            foreach (var manager in managers)
            {
                await manager.DisposeAsync();
            }
        }
    }

    private static double WaitQueuesLingerMs => DistLock.Algorithm.WaitQueues.LingerTime.TotalMilliseconds;
}
