using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.Transport;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// The line of waiters in Redis when some of its members do not behave: one that is stalled (it
/// still listens, but never claims what a release reserves for it) and a fleet that died at once
/// (entries nobody listens for). Neither may make the live waiters sleep to the holder's TTL.
/// </summary>
public abstract class LineOfWaitersTests
{
    // A grace of 200 ms. The holder's TTL is 10 s, so a waiter that slept to it (the old behaviour)
    // is told apart from one woken after the grace.
    private static readonly RedisLockManagerOptions Options = new() { HandoffGrace = TimeSpan.FromMilliseconds(200), Defaults = { Ttl = TimeSpan.FromSeconds(10) } };
    private static readonly TimeSpan WellBelowTheTtl = TimeSpan.FromSeconds(4);

    // How long a waiter may take to join the line: as long as it waits itself. Only a failure
    // waits that long; 5 s ran out on a loaded 2-core machine.
    private static readonly TimeSpan Joining = TimeSpan.FromSeconds(30);
    private readonly RedisNodesFixture _nodes;

    protected LineOfWaitersTests(RedisNodesFixture nodes) => _nodes = nodes;

    /// <summary>The key whose line the waiters join: the lock's here; a semaphore's in <see cref="SemaphoreLineOfWaitersTests"/>.</summary>
    protected virtual string KeyOf(string resource) => new LockKeyLayout(Options.KeyPrefix).LockKey(resource);

    /// <summary>Takes what the line is for: the lock here; a permit of a semaphore of one in <see cref="SemaphoreLineOfWaitersTests"/>.</summary>
    protected virtual Task<LockHandle> AcquireAsync(RedisLockManager manager, string resource, TimeSpan? timeout = null) =>
        manager.AcquireAsync(resource, timeout);

    [Fact]
    public async Task StalledWaiterAtTheHead_NextWaiterTakesTheLockAfterTheGrace_AndTheStalledOneLosesItsPlace()
    {
        await using var holder = await _nodes.ConnectAsync(Options);
        await using var waiter = await _nodes.ConnectAsync(Options);
        var resource = "line-" + Guid.NewGuid().ToString("N");
        var key = KeyOf(resource);
        var held = await AcquireAsync(holder, resource);

        // A paused process: first in line, subscribed, and never claiming anything.
        await using var stalled = await StalledWaiterAsync(key, "stalled", ticket: 0);
        var waiting = AcquireAsync(waiter, resource, TimeSpan.FromSeconds(30));
        await JoinedAsync(key, "the live waiter", "stalled");

        var released = Stopwatch.StartNew();
        await held.ReleaseAsync();
        var second = await waiting;
        var waited = released.Elapsed;

        Assert.True(waited < WellBelowTheTtl, $"the waiter behind a stalled one took the lock {waited} after the release");

        // Woken with a waiter behind it, the stalled one left the line: it lost its place, and is
        // not woken again (a live process that asks again queues at the end).
        await LeftAsync(key, "the second waiter");
        var third = AcquireAsync(holder, resource, TimeSpan.FromSeconds(30));
        await JoinedAsync(key, "the third waiter");
        await second.ReleaseAsync();
        await using var thirdHandle = await third;
        Assert.All(await ScoresAsync(key, "stalled"), score => Assert.Null(score));
        Assert.True(stalled.Wakes >= 1, "the stalled waiter was never woken: it was not at the head of the line");
    }

    [Fact]
    public async Task StalledReaderAtTheHead_WriterBehindTakesTheLockAfterTheGrace_AndTheStalledOneIsDropped()
    {
        await using var holder = await _nodes.ConnectAsync(Options);
        await using var writer = await _nodes.ConnectAsync(Options);
        var resource = "line-" + Guid.NewGuid().ToString("N");
        var key = new LockKeyLayout(Options.KeyPrefix).LockKey(resource);
        var held = await holder.AcquireAsync(resource);

        // A paused reader: first in line, subscribed, never claiming; the readers' reservation is its.
        await using var stalled = await StalledWaiterAsync(key, "read:stalled", ticket: 0);
        var waiting = writer.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        await JoinedAsync(key, "the writer", "read:stalled");

        var released = Stopwatch.StartNew();
        await held.ReleaseAsync();
        var second = await waiting;
        var waited = released.Elapsed;

        Assert.True(waited < WellBelowTheTtl, $"the writer behind a stalled reader took the lock {waited} after the release");
        Assert.True(stalled.Wakes >= 1, "the stalled reader was never woken: it was not at the head of the line");

        // Woken with a waiter behind it, it left the line: it is not woken again.
        await LeftAsync(key, "the writer");
        var third = holder.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        await JoinedAsync(key, "the third waiter");
        await second.ReleaseAsync();
        await using var thirdHandle = await third;
        Assert.All(await ScoresAsync(key, "read:stalled"), score => Assert.Null(score));
    }

    [Fact]
    public async Task StalledWaiterThenAFleetOfDeadOnes_TheLiveWaiterBehindStillGetsItsTurn()
    {
        await using var holder = await _nodes.ConnectAsync(Options);
        await using var waiter = await _nodes.ConnectAsync(Options);
        var resource = "line-" + Guid.NewGuid().ToString("N");
        var key = KeyOf(resource);
        var held = await AcquireAsync(holder, resource);

        // First a paused process, then 100 entries nobody listens for, then the live waiter: a
        // release wakes the paused one and must walk past the dead to find whom to stand by.
        await using var stalled = await StalledWaiterAsync(key, "stalled", ticket: 0);
        var dead = Enumerable.Range(1, 100).Select(i => new SortedSetEntry($"dead-{i}", i)).ToArray();
        await AddToLineEverywhereAsync(key, dead);

        var waiting = AcquireAsync(waiter, resource, TimeSpan.FromSeconds(30));
        await JoinedAsync(key, "the live waiter", ["stalled", .. dead.Select(e => (string)e.Element!)]);

        var released = Stopwatch.StartNew();
        await held.ReleaseAsync();
        await using var handle = await waiting;

        Assert.True(released.Elapsed < WellBelowTheTtl, $"the live waiter behind a stalled one and {dead.Length} dead ones took the lock {released.Elapsed} after the release");
        Assert.True(stalled.Wakes >= 1, "the stalled waiter was never woken: it was not at the head of the line");
    }

    [Fact]
    public async Task AFleetOfDeadWaitersAhead_ReleaseStillWakesTheLiveOne()
    {
        await using var holder = await _nodes.ConnectAsync(Options);
        await using var waiter = await _nodes.ConnectAsync(Options);
        var resource = "line-" + Guid.NewGuid().ToString("N");
        var key = KeyOf(resource);
        var held = await AcquireAsync(holder, resource);

        // 150 waiters killed at once leave their places in line and nobody listening on their channels.
        var dead = Enumerable.Range(0, 150).Select(i => new SortedSetEntry($"dead-{i}", -1000 + i)).ToArray();
        await AddToLineEverywhereAsync(key, dead);

        var waiting = AcquireAsync(waiter, resource, TimeSpan.FromSeconds(30));
        await JoinedAsync(key, "the live waiter", [.. dead.Select(e => (string)e.Element!)]);

        var released = Stopwatch.StartNew();
        await held.ReleaseAsync();
        await using var handle = await waiting;

        Assert.True(released.Elapsed < WellBelowTheTtl, $"the live waiter behind {dead.Length} dead ones took the lock {released.Elapsed} after the release");

        // Dead entries that a release did not have to walk (the live waiter got the lock first on
        // that node) stay until the next release, in a line that expires with its lock.
        foreach (var node in _nodes.Inspectors)
        {
            var line = LockKeyLayout.WaitersKey(key);
            // PTTL in one step (the line may go meanwhile): -1 is a key without expiry, -2 none.
            Assert.NotEqual(-1, (long)await node.GetDatabase().ExecuteAsync("PTTL", line));
        }
    }

    /// <summary>Puts entries in the lock's line on every node, as waiters that died there would have left them.</summary>
    private async Task AddToLineEverywhereAsync(string key, SortedSetEntry[] entries)
    {
        foreach (var node in _nodes.Inspectors)
        {
            await node.GetDatabase().SortedSetAddAsync(LockKeyLayout.WaitersKey(key), entries);
        }
    }

    /// <summary>
    /// Waits until a waiter other than <paramref name="known"/> is in the line on a majority of the
    /// nodes. A majority, not every node: a waiter is sure to be refused, and so to wait in line,
    /// only where the lock is held, and a Redlock holder may hold just a majority. A node that
    /// refused the last winner (it came while the stalled waiter's reservation ran there) has the
    /// key free: the winner's pass-on dropped the stalled waiter there, and a newcomer takes that
    /// node's key instead of joining its line.
    /// </summary>
    private async Task JoinedAsync(string key, string who, params string[] known)
    {
        var majority = _nodes.Inspectors.Count / 2 + 1;
        var joined = await Eventually.TrueWithinAsync(Joining, async () =>
            (await LinesAsync(key)).Count(line => line.Any(entry => !known.Contains((string)entry.Element!))) >= majority);
        if (!joined)
        {
            Assert.Fail($"{who} never joined the line on a majority of the nodes; {await DescribeLinesAsync(key)}");
        }
    }

    /// <summary>
    /// Waits until the line holds none but <paramref name="remaining"/> on every node: a waiter that
    /// won with several nodes leaves the lines of those that refused it after it returned (its pass-on).
    /// </summary>
    private async Task LeftAsync(string key, string who, params string[] remaining)
    {
        var left = await Eventually.TrueWithinAsync(Joining, async () =>
            (await LinesAsync(key)).All(line => line.All(entry => remaining.Contains((string)entry.Element!))));
        if (!left)
        {
            Assert.Fail($"{who} never left the line; {await DescribeLinesAsync(key)}");
        }
    }

    private Task<SortedSetEntry[][]> LinesAsync(string key) =>
        Task.WhenAll(_nodes.Inspectors.Select(n => n.GetDatabase().SortedSetRangeByRankWithScoresAsync(LockKeyLayout.WaitersKey(key))));

    /// <summary>Each node's line (member=score) and what it has under the key, for a failure's reader.</summary>
    private async Task<string> DescribeLinesAsync(string key)
    {
        var lines = await LinesAsync(key);
        var values = await Task.WhenAll(_nodes.Inspectors.Select(async n =>
            await n.GetDatabase().KeyTypeAsync(key) is var type && type == RedisType.String ? (string?)await n.GetDatabase().StringGetAsync(key) : type.ToString()));
        return string.Join("; ", lines.Select((line, i) =>
            $"node {i}: line [{string.Join(" ", line.Take(5).Select(e => $"{e.Element}={e.Score}"))}{(line.Length > 5 ? $" and {line.Length - 5} more" : "")}], key {values[i]}"));
    }

    private async Task<double?[]> ScoresAsync(string key, string member) =>
        await Task.WhenAll(_nodes.Inspectors.Select(n => n.GetDatabase().SortedSetScoreAsync(LockKeyLayout.WaitersKey(key), member)));

    private async Task<StalledWaiter> StalledWaiterAsync(string key, string id, double ticket)
    {
        var connections = new List<ConnectionMultiplexer>();
        var stalled = new StalledWaiter(connections);
        foreach (var endpoint in _nodes.Endpoints)
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(endpoint);
            connections.Add(connection);
            await connection.GetSubscriber().SubscribeAsync(RedisChannel.Literal(LockKeyLayout.WakeChannel(key, id)), (_, _) => stalled.Woken());
            await connection.GetDatabase().SortedSetAddAsync(LockKeyLayout.WaitersKey(key), id, ticket);
        }

        return stalled;
    }

    /// <summary>Listens on a waiter's wake channel like a paused process: the subscription is up, nothing acts on it.</summary>
    private sealed class StalledWaiter(List<ConnectionMultiplexer> connections) : IAsyncDisposable
    {
        private int _wakes;

        public int Wakes => Volatile.Read(ref _wakes);

        public void Woken() => Interlocked.Increment(ref _wakes);

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
