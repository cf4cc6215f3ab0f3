using DistLock.RedisRig;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// Redlock over three redis-server masters, one of which is dead for the whole run (started, then
/// killed): a quorum lock must keep every promise with a dead minority. Only the live majority
/// answers, so this topology has no hooks into the nodes; it runs the suites that use
/// <see cref="ILockManager"/> alone, and shows the line of waiters as an operator sees it
/// (<see cref="ILockManager.InspectAsync"/>, which a majority answers).
/// </summary>
public sealed class TwoLiveOneDeadFixture : ILockTopology, IAsyncLifetime
{
    private RedisServer[] _servers = [];
    private string[] _configurations = [];
    private LockWatcher? _watcher;

    public async Task InitializeAsync()
    {
        _servers = await RedisServer.StartManyAsync(3);
        _servers[2].Kill();

        // Connecting to the dead node is refused; a short connect timeout on it alone bounds each
        // manager's ConnectAsync should the refusal be slow to show. The live nodes keep the default:
        // on a loaded machine a 1 s connect to them failed now and then.
        _configurations = [_servers[0].Endpoint, _servers[1].Endpoint, _servers[2].Endpoint + ",connectTimeout=1000"];
        _watcher = new LockWatcher(() => RedisLockManager.ConnectAsync(_configurations));
    }

    public async Task<ILockManager> ConnectAsync(LockManagerOptions? options = null) =>
        await RedisLockManager.ConnectAsync(_configurations, RedisOptions.From(options));

    public Task<int> WaitersAsync(string resource) => _watcher!.WaitersAsync(resource);

    public async Task DisposeAsync()
    {
        if (_watcher is not null)
        {
            await _watcher.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TwoLiveOneDeadCollection : ICollectionFixture<TwoLiveOneDeadFixture>
{
    public const string Name = "two live nodes and one dead";
}
