using System.Runtime.CompilerServices;
using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>A node backed by one StackExchange.Redis connection (a server, a Sentinel-managed master or a cluster).</summary>
internal sealed class RedisLockNode : ScriptNode
{
    private static readonly Version ShardedPubSubSince = new(7, 0);

    // One second: nodes' clocks differ by milliseconds, so finer floors would differ on every round.
    private const long QuorumFenceResolutionMicroseconds = 1_000_000;

    private readonly IDatabase _database;
    private readonly ConnectionWatch _connectionWatch;
    private readonly RedisVersionGate? _versionGate;

    // Replicas that must confirm a new hold or an extension (WAIT), and how long they may take; 0: none.
    private readonly int _waitForReplicas;
    private readonly long _replicaTimeoutMs;

    // Null until the server has been seen: then whether wake-ups use sharded pub/sub.
    private bool? _sharded;

    /// <param name="multiplexer">The connection.</param>
    /// <param name="settings">The manager's settings.</param>
    /// <param name="quorumMember">Whether the node is one of several (Redlock): fencing counters then use a clock floor of one second, so that they stay in step.</param>
    public RedisLockNode(IConnectionMultiplexer multiplexer, RedisLockManagerOptions settings, bool quorumMember)
        : base(Ms(settings.HandoffGrace), Ms(settings.IdleExpiry), quorumMember ? QuorumFenceResolutionMicroseconds : 1)
    {
        _waitForReplicas = settings.WaitForReplicas;
        _replicaTimeoutMs = Ms(settings.ReplicaTimeout);
        Multiplexer = multiplexer;
        _database = multiplexer.GetDatabase();
        _connectionWatch = new ConnectionWatch(multiplexer);
        _versionGate = settings.VersionCheck ? new RedisVersionGate(multiplexer) : null;
        Name = string.Join(",", multiplexer.GetEndPoints().Select(RedisConnector.Format));
    }

    public IConnectionMultiplexer Multiplexer { get; }

    public override string Name { get; }

    public override string PublishCommand => Sharded ? "SPUBLISH" : "PUBLISH";

    public override void EnsureCompatible() => _versionGate?.Check();

    /// <summary>StackExchange.Redis answers one value (no slot) for every key of a server that is not a cluster.</summary>
    public override int SlotOf(string key) => Multiplexer.HashSlot(key);

    public override Task<RedisResult> EvaluateAsync(LockScript script, RedisKey[] keys, RedisValue[] args) => script.EvaluateAsync(_database, keys, args);

    /// <summary>The call and the reading of its answer in one step (see <see cref="LockScript.EvaluateAsync{T}"/>).</summary>
    public override Task<NodeResult> RunAsync(LockScript script, RedisKey[] keys, RedisValue[] args, Func<RedisResult, NodeResult> read) =>
        script.EvaluateAsync(_database, keys, args, read);

    public override Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl) => _database.StringSetAsync(key, value, ttl, When.NotExists);

    public override Task<TimeSpan> PingAsync() => _database.PingAsync();

    /// <summary>SCAN (never KEYS) on every primary: a cluster's keys are spread over them.</summary>
    public override async IAsyncEnumerable<string> KeysAsync(string pattern, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var endpoint in Multiplexer.GetEndPoints())
        {
            var server = Multiplexer.GetServer(endpoint);
            if (server.IsConnected && server.IsReplica)
            {
                continue;
            }

            if (!server.IsConnected)
            {
                throw new IOException($"Redis at {endpoint} is not connected");
            }

            var pages = server.KeysAsync(pattern: pattern, pageSize: 250).GetAsyncEnumerator(cancellationToken);
            await using (pages.ConfigureAwait(false))
            {
                while (await pages.MoveNextAsync().AsTask().WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
                {
                    yield return pages.Current.ToString();
                }
            }
        }
    }

    public override async Task<Algorithm.INodeSubscription> SubscribeAsync(string[] channels, Action<int, string?> onMessage)
    {
        var subscription = new RedisReleaseSubscription(Multiplexer, _connectionWatch, [.. channels.Select(c => Sharded ? RedisChannel.Sharded(c) : RedisChannel.Literal(c))], onMessage);
        await subscription.StartAsync().ConfigureAwait(false);
        return subscription;
    }

    public override bool ConfirmsGrants => _waitForReplicas > 0;

    /// <summary>
    /// Waits until enough replicas have what <paramref name="granting"/> just wrote (WAIT covers every
    /// earlier write of the connection, and the script went on the same one: the key's primary). Too
    /// few in time: the grant does not count, since a failover could lose it. A new hold is given back;
    /// an extension is left as it is: the primary keeps the longer TTL, which harms nobody, and the
    /// holder does not count on it, so a failover cannot take back a TTL the holder relies on.
    /// </summary>
    public override Task<Algorithm.NodeResult> ConfirmAsync(Task<Algorithm.NodeResult> granting, Algorithm.Hold hold, string? newHolder) =>
        _waitForReplicas > 0 ? ReplicatedAsync(granting, hold, newHolder) : granting;

    private async Task<Algorithm.NodeResult> ReplicatedAsync(Task<Algorithm.NodeResult> granting, Algorithm.Hold hold, string? newHolder)
    {
        var result = await granting.ConfigureAwait(false);
        if (result.Reply != Algorithm.NodeReply.Granted)
        {
            return result;
        }

        var confirmed = (long)await Multiplexer.GetServer((RedisKey)hold.Key).ExecuteAsync("WAIT", _waitForReplicas, _replicaTimeoutMs).ConfigureAwait(false);
        if (confirmed >= _waitForReplicas)
        {
            return result;
        }

        if (newHolder is not null)
        {
            await hold.ReleaseAsync(this, newHolder, Algorithm.ReleaseNotice.New(newHolder)).ConfigureAwait(false);
        }

        throw new LockBackendException(
            $"{confirmed} of the {_waitForReplicas} replica(s) asked for (RedisLockManagerOptions.WaitForReplicas) confirmed the " +
            (newHolder is null ? "extension" : "lock") + $" within {_replicaTimeoutMs} ms, so it " +
            (newHolder is null ? "does not count" : "was given back"));
    }

    /// <summary>
    /// Whether wakes travel on sharded pub/sub (SPUBLISH/SSUBSCRIBE): in Redis Cluster 7.0 and later,
    /// where a plain PUBLISH would be broadcast to every node and its listener count would cover only
    /// the node that ran the script. A wake channel shares its hold's hash slot, so scripts may publish on it.
    /// </summary>
    private bool Sharded
    {
        get
        {
            if (_sharded is { } known)
            {
                return known;
            }

            var servers = Multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica).ToList();
            if (servers.Count == 0)
            {
                // Not seen yet: plain pub/sub for now, decided for good once a server answers.
                return false;
            }

            var sharded = servers.All(s => s.ServerType == ServerType.Cluster && s.Version >= ShardedPubSubSince);
            _sharded = sharded;
            return sharded;
        }
    }
}
