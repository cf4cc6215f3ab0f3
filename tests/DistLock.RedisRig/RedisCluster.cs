using System.Globalization;

namespace DistLock.RedisRig;

/// <summary>
/// A Redis Cluster of real redis-server processes on loopback ports: primaries, each with the
/// same number of replicas, created with <c>redis-cli --cluster create</c>. Moves a slot between
/// primaries and fails a primary over to its replica, to test what a held lock lives through.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    private readonly RedisServer[] _servers;
    private readonly int _replicas;

    private RedisCluster(RedisServer[] servers, int replicas)
    {
        _servers = servers;
        _replicas = replicas;
    }

    public IReadOnlyList<RedisServer> Servers => _servers;

    /// <summary>Every node, as one StackExchange.Redis configuration string.</summary>
    public string Configuration => string.Join(",", _servers.Select(s => s.Endpoint));

    /// <summary>Starts the processes, creates the cluster, and waits until every node agrees on it.</summary>
    public static async Task<RedisCluster> StartAsync(int primaries, int replicasPerPrimary = 0)
    {
        var servers = await RedisServer.StartManyAsync(
            primaries * (1 + replicasPerPrimary),
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000").ConfigureAwait(false);
        var cluster = new RedisCluster(servers, primaries * replicasPerPrimary);
        try
        {
            await RedisCli.RunAsync(
            [
                "--cluster", "create", .. servers.Select(s => s.Endpoint),
                "--cluster-replicas", replicasPerPrimary.ToString(CultureInfo.InvariantCulture), "--cluster-yes",
            ]).ConfigureAwait(false);
            await cluster.WaitUntilSettledAsync().ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The hash slot of <paramref name="key"/>, as the server computes it.</summary>
    public async Task<int> SlotOfAsync(string key) =>
        int.Parse(await RedisCli.CommandAsync(_servers[0].Port, "CLUSTER", "KEYSLOT", key).ConfigureAwait(false), CultureInfo.InvariantCulture);

    /// <summary>The primaries that serve at least one slot now.</summary>
    public async Task<IReadOnlyList<RedisServer>> PrimariesAsync()
    {
        var primaries = new List<RedisServer>();
        foreach (var server in _servers)
        {
            if (await server.RoleAsync().ConfigureAwait(false) == "master")
            {
                primaries.Add(server);
            }
        }

        return primaries;
    }

    /// <summary>The primary that serves <paramref name="slot"/> now.</summary>
    public async Task<RedisServer> PrimaryOfSlotAsync(int slot)
    {
        foreach (var line in await NodesAsync().ConfigureAwait(false))
        {
            if (line.Flags.Contains("master", StringComparer.Ordinal) && line.Serves(slot))
            {
                return ServerWithId(line.Id, await NodesAsync().ConfigureAwait(false));
            }
        }

        throw new InvalidOperationException($"No primary serves slot {slot}.");
    }

    /// <summary>A replica of <paramref name="primary"/>.</summary>
    public async Task<RedisServer> ReplicaOfAsync(RedisServer primary)
    {
        var primaryId = await IdOfAsync(primary).ConfigureAwait(false);
        var nodes = await NodesAsync().ConfigureAwait(false);
        var replica = nodes.FirstOrDefault(n => n.PrimaryId == primaryId)
            ?? throw new InvalidOperationException(
                $"{primary.Endpoint} ({primaryId}) has no replica: " + string.Join("; ", nodes.Select(n => $"{n.Id} :{n.Port} {string.Join(',', n.Flags)} of {n.PrimaryId}")));
        return ServerWithId(replica.Id, nodes);
    }

    /// <summary>
    /// Moves <paramref name="slot"/> and its keys to <paramref name="target"/> the way
    /// <c>redis-cli --cluster reshard</c> does: mark it importing and migrating, MIGRATE the keys,
    /// then assign it. <paramref name="pause"/> is spent between the steps, so that clients act
    /// while the slot is half-moved (and get ASK redirects).
    /// </summary>
    public async Task MigrateSlotAsync(int slot, RedisServer target, TimeSpan pause)
    {
        var source = await PrimaryOfSlotAsync(slot).ConfigureAwait(false);
        if (source == target)
        {
            throw new ArgumentException("The slot is on that primary already.", nameof(target));
        }

        var slotText = slot.ToString(CultureInfo.InvariantCulture);
        var sourceId = await IdOfAsync(source).ConfigureAwait(false);
        var targetId = await IdOfAsync(target).ConfigureAwait(false);
        await RedisCli.CommandAsync(target.Port, "CLUSTER", "SETSLOT", slotText, "IMPORTING", sourceId).ConfigureAwait(false);
        await RedisCli.CommandAsync(source.Port, "CLUSTER", "SETSLOT", slotText, "MIGRATING", targetId).ConfigureAwait(false);
        await Task.Delay(pause).ConfigureAwait(false);

        var keys = (await RedisCli.CommandAsync(source.Port, "CLUSTER", "GETKEYSINSLOT", slotText, "1000").ConfigureAwait(false))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keys.Length > 0)
        {
            await RedisCli.CommandAsync(
                source.Port,
                ["MIGRATE", "127.0.0.1", target.Port.ToString(CultureInfo.InvariantCulture), string.Empty, "0", "5000", "KEYS", .. keys]).ConfigureAwait(false);
        }

        await Task.Delay(pause).ConfigureAwait(false);
        foreach (var primary in await PrimariesAsync().ConfigureAwait(false))
        {
            await RedisCli.CommandAsync(primary.Port, "CLUSTER", "SETSLOT", slotText, "NODE", targetId).ConfigureAwait(false);
        }

        await WaitUntilSettledAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// A manual failover (<c>CLUSTER FAILOVER</c> on <paramref name="replica"/>): the replica
    /// catches up with its primary, then takes over its slots; the old primary becomes its replica.
    /// </summary>
    public async Task FailoverAsync(RedisServer replica)
    {
        await RedisCli.CommandAsync(replica.Port, "CLUSTER", "FAILOVER").ConfigureAwait(false);
        await Poll.UntilAsync(async () => await replica.RoleAsync().ConfigureAwait(false) == "master", SettleTimeout, $"{replica.Endpoint} to become a primary").ConfigureAwait(false);
        await WaitUntilSettledAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every node sees every slot served and agrees with the others (redis-cli --cluster check).</summary>
    /// <summary>
    /// Waits until every node sees every slot served, the nodes agree (redis-cli --cluster check
    /// exits non-zero until they do: "not yet"), every node knows every replica, and every replica
    /// has its replication link up (a manual failover needs a replica in sync).
    /// </summary>
    private Task WaitUntilSettledAsync() => Poll.UntilAsync(
        async () =>
        {
            var check = await RedisCli.RunAsync("--cluster", "check", _servers[0].Endpoint).ConfigureAwait(false);
            if (check.Contains("[WARNING]", StringComparison.Ordinal) || check.Contains("[ERR]", StringComparison.Ordinal))
            {
                return false;
            }

            foreach (var server in _servers)
            {
                var info = await RedisCli.CommandAsync(server.Port, "CLUSTER", "INFO").ConfigureAwait(false);
                var nodes = await RedisCli.CommandAsync(server.Port, "CLUSTER", "NODES").ConfigureAwait(false);
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal)
                    || nodes.Split('\n').Count(l => l.Contains("slave", StringComparison.Ordinal)) != _replicas
                    || !await server.InSyncAsync().ConfigureAwait(false))
                {
                    return false;
                }
            }

            return true;
        },
        SettleTimeout,
        "the cluster to settle: " + Configuration);

    private static Task<string> IdOfAsync(RedisServer server) => RedisCli.CommandAsync(server.Port, "CLUSTER", "MYID");

    private RedisServer ServerWithId(string id, IReadOnlyList<ClusterNodeLine> nodes)
    {
        var port = nodes.Single(n => n.Id == id).Port;
        return _servers.Single(s => s.Port == port);
    }

    private async Task<IReadOnlyList<ClusterNodeLine>> NodesAsync() =>
        (await RedisCli.CommandAsync(_servers[0].Port, "CLUSTER", "NODES").ConfigureAwait(false))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(ClusterNodeLine.Parse)
            .ToList();
}
