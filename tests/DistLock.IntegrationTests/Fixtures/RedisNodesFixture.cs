using DistLock.RedisRig;
using StackExchange.Redis;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// A set of real redis-server processes, shared by the tests of one collection. Tests use unique
/// resource names, so they do not disturb each other; a test that kills or pauses a server starts
/// its own instead.
/// </summary>
public abstract class RedisNodesFixture : ILockTopology, IAsyncLifetime
{
    private readonly int _count;
    private ConnectionMultiplexer[] _inspectors = [];
    private LockWatcher? _watcher;

    protected RedisNodesFixture(int count) => _count = count;

    public IReadOnlyList<RedisServer> Servers { get; private set; } = [];

    /// <summary>Where the nodes listen, one configuration string each.</summary>
    public IReadOnlyList<string> Endpoints { get; private set; } = [];

    public int NodeCount => Endpoints.Count;

    /// <summary>One connection per node that no manager uses, to look at (or tamper with) what the nodes hold.</summary>
    public IReadOnlyList<ConnectionMultiplexer> Inspectors => _inspectors;

    /// <summary>A manager on its own connections, as a separate process would have.</summary>
    public Task<RedisLockManager> ConnectAsync(RedisLockManagerOptions? options = null) =>
        RedisLockManager.ConnectAsync(Endpoints, options);

    async Task<ILockManager> ILockTopology.ConnectAsync(LockManagerOptions? options) => await ConnectAsync(RedisOptions.From(options));

    public Task<int> WaitersAsync(string resource) => _watcher!.WaitersAsync(resource);

    /// <summary>How many nodes hold <paramref name="key"/>, read on connections the managers do not use.</summary>
    public async Task<int> CountHoldersAsync(string key)
    {
        var held = await Task.WhenAll(_inspectors.Select(c => c.GetDatabase().KeyExistsAsync(key)));
        return held.Count(h => h);
    }

    /// <summary>Deletes <paramref name="key"/> on every node, as an operator (or an eviction) would.</summary>
    public Task DeleteEverywhereAsync(string key) =>
        Task.WhenAll(_inspectors.Select(c => c.GetDatabase().KeyDeleteAsync(key)));

    /// <summary>How many channels matching <paramref name="pattern"/> have a subscriber, per node (PUBSUB CHANNELS).</summary>
    public virtual async Task<int[]> ChannelsAsync(string pattern) =>
        await Task.WhenAll(_inspectors.Select(async c =>
            ((StackExchange.Redis.RedisResult[])(await c.GetDatabase().ExecuteAsync("PUBSUB", "CHANNELS", pattern))!).Length));

    /// <summary>
    /// True when a majority of the nodes hold <paramref name="value"/> under <paramref name="key"/>,
    /// which is what a held lock guarantees; a minority may differ (a node that answered late).
    /// </summary>
    public async Task<bool> MajorityHoldsAsync(string key, string value)
    {
        var values = await Task.WhenAll(_inspectors.Select(async c => (string?)await c.GetDatabase().StringGetAsync(key)));
        return values.Count(v => v == value) > _inspectors.Length / 2;
    }

    /// <summary>
    /// The value stored under <paramref name="key"/> on the first node. An acquire returns at the
    /// first majority, so on a healthy node the key may still be on its way: wait for it, briefly.
    /// </summary>
    public async Task<string?> ValueAsync(string key)
    {
        string? value = null;
        await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(2), async () => (value = await _inspectors[0].GetDatabase().StringGetAsync(key)) is not null);
        return value;
    }

    public async Task InitializeAsync()
    {
        Endpoints = await StartNodesAsync(_count);
        _inspectors = await Task.WhenAll(Endpoints.Select(async e =>
            await ConnectionMultiplexer.ConnectAsync($"{e},abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000")));
        _watcher = new LockWatcher(() => ConnectAsync());
    }

    /// <summary>Starts the nodes (redis-server processes here) and returns their endpoints.</summary>
    protected virtual async Task<IReadOnlyList<string>> StartNodesAsync(int count)
    {
        Servers = await RedisServer.StartManyAsync(count);
        return Servers.Select(s => s.Endpoint).ToList();
    }

    public async Task DisposeAsync()
    {
        foreach (var inspector in _inspectors)
        {
            await inspector.DisposeAsync();
        }

        if (_watcher is not null)
        {
            await _watcher.DisposeAsync();
        }

        await StopNodesAsync();
    }

    protected virtual async Task StopNodesAsync()
    {
        foreach (var server in Servers)
        {
            await server.DisposeAsync();
        }
    }
}
