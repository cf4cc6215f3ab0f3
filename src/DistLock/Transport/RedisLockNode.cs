using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>A lock node backed by one StackExchange.Redis connection.</summary>
internal sealed partial class RedisLockNode : ILockNode
{
    private static readonly Version ShardedPubSubSince = new(7, 0);

    // One second: nodes' clocks differ by milliseconds, so finer floors would differ on every round.
    private const long QuorumFenceResolutionMicroseconds = 1_000_000;

    private readonly IDatabase _database;
    private readonly RedisVersionGate? _versionGate;

    // How long a released lock stays reserved for the waiter it wakes.
    private readonly long _handoffGraceMs;

    // Replicas that must confirm a new lock (WAIT), and how long they may take; 0: none.
    private readonly int _waitForReplicas;
    private readonly long _replicaTimeoutMs;

    // What the acquire script needs besides id, TTL and waiter: how long a fencing counter
    // outlives its last token, and the resolution of its clock floor (see next-fence.lua).
    // Empty with the defaults of one node, which the script knows.
    private readonly RedisValue[] _fenceArgs;
    private readonly long _idleExpiryMs;

    // Null until the server has been seen: then whether wake-ups use sharded pub/sub.
    private bool? _sharded;

    /// <param name="multiplexer">The connection.</param>
    /// <param name="settings">The manager's settings.</param>
    /// <param name="quorumMember">Whether the node is one of several (Redlock): fencing counters then use a clock floor of one second, so that they stay in step.</param>
    public RedisLockNode(IConnectionMultiplexer multiplexer, LockOptions settings, bool quorumMember)
    {
        _handoffGraceMs = ToMilliseconds(settings.HandoffGrace);
        _waitForReplicas = settings.WaitForReplicas;
        _replicaTimeoutMs = ToMilliseconds(settings.ReplicaTimeout);
        _idleExpiryMs = ToMilliseconds(settings.IdleExpiry);
        _fenceArgs = quorumMember || settings.IdleExpiry != LockOptions.DefaultIdleExpiry
            ? [_idleExpiryMs, quorumMember ? QuorumFenceResolutionMicroseconds : 1]
            : [];
        Multiplexer = multiplexer;
        _database = multiplexer.GetDatabase();
        _versionGate = settings.VersionCheck ? new RedisVersionGate(multiplexer) : null;
        Name = string.Join(",", multiplexer.GetEndPoints().Select(RedisConnector.Format));
    }

    public IConnectionMultiplexer Multiplexer { get; }

    public string Name { get; }

    public void EnsureCompatible() => _versionGate?.Check();

    public Task<NodeResult> TryAcquireAsync(LockTarget target, string id, TimeSpan ttl, string waiterId) => target.Mode switch
    {
        LockMode.Read => TryAcquireReadAsync(target.Key, id, ttl, waiterId),
        LockMode.Semaphore => TryAcquireSemaphoreAsync(target, id, ttl, waiterId),
        _ => TryAcquireExclusiveAsync(target.Key, id, ttl, waiterId),
    };

    public Task<NodeResult> ExtendAsync(LockTarget target, string id, TimeSpan ttl) => target.Mode switch
    {
        LockMode.Read => ExtendReadAsync(target.Key, id, ttl),
        LockMode.Semaphore => ExtendSemaphoreAsync(target, id, ttl),
        _ => ExtendExclusiveAsync(target.Key, id, ttl),
    };

    public Task<NodeResult> ReleaseAsync(LockTarget target, string id, string notice) => target.Mode switch
    {
        LockMode.Read => ReleaseReadAsync(target.Key, id, notice),
        LockMode.Semaphore => ReleaseSemaphoreAsync(target, id, notice),
        _ => ReleaseExclusiveAsync(target.Key, id, notice),
    };

    public Task PassOnAsync(LockTarget target, string waiterId, string notice) =>
        target.Mode == LockMode.Semaphore ? PassOnSemaphoreAsync(target, waiterId, notice) : PassOnLockAsync(target.Key, waiterId, notice);

    private Task<NodeResult> TryAcquireExclusiveAsync(string key, string id, TimeSpan ttl, string waiterId)
    {
        var acquiring = LockScripts.Acquire.EvaluateAsync(
            _database, [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.FenceKey(key)], AcquireArgs(id, ttl, waiterId), ReadAcquireReply);
        return _waitForReplicas > 0 ? ReplicatedAsync(acquiring, LockTarget.Exclusive(key), giveBack: id) : acquiring;
    }

    public Task<NodeResult> RaiseFenceAsync(string key, long token) =>
        LockScripts.FenceFloor.EvaluateAsync(_database, [LockKeyLayout.FenceKey(key)], [token, _idleExpiryMs], static _ => NodeResult.Granted);

    private Task<NodeResult> ExtendExclusiveAsync(string key, string id, TimeSpan ttl)
    {
        var extending = LockScripts.Extend.EvaluateAsync(_database, [key], [id, ToMilliseconds(ttl)], ReadYesNo);
        return _waitForReplicas > 0 ? ReplicatedAsync(extending, LockTarget.Exclusive(key), giveBack: null) : extending;
    }

    private Task<NodeResult> ReleaseExclusiveAsync(string key, string id, string notice)
    {
        var line = WakeScripts.ForLock(key);
        return LockScripts.Release.EvaluateAsync(
            _database, line.Keys, [id, notice, _handoffGraceMs, PublishCommand], ReadReleaseReply, (Node: this, Line: line, Notice: notice));
    }

    public async Task<INodeSubscription> SubscribeAsync(string key, string waiterId, Action<string?> onWake)
    {
        var name = LockKeyLayout.WakeChannel(key, waiterId);
        var channel = Sharded ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);
        var subscription = new RedisReleaseSubscription(Multiplexer, channel, onWake);
        await subscription.StartAsync().ConfigureAwait(false);
        return subscription;
    }

    private async Task PassOnLockAsync(string key, string waiterId, string notice)
    {
        var woke = await LockScripts.PassOn
            .EvaluateAsync(_database, [key, LockKeyLayout.WaitersKey(key)], [waiterId, notice, _handoffGraceMs, PublishCommand])
            .ConfigureAwait(false);
        await GoOnWakingAsync(WakeScripts.ForLock(key), notice, (long)woke).ConfigureAwait(false);
    }

    /// <summary>The lock's state on this node: id, PTTL, fencing counter, waiters.</summary>
    public async Task<(string? Value, long PttlMs, long Fence, int Waiters, IReadOnlyList<(string Id, long LeftMs)> Readers)> InspectAsync(string key)
    {
        var reply = (RedisResult[])(await LockScripts.Inspect
            .EvaluateAsync(_database, [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.FenceKey(key), LockKeyLayout.ReadersKey(key)], [])
            .ConfigureAwait(false))!;
        var leases = (RedisResult[])reply[4]!;
        var readers = new List<(string, long)>(leases.Length / 2);
        for (var i = 0; i + 1 < leases.Length; i += 2)
        {
            readers.Add(((string)leases[i]!, (long)leases[i + 1]));
        }

        return ((string?)reply[0], (long)reply[1], reply[2].IsNull ? 0 : (long)reply[2], (int)reply[3], readers);
    }

    /// <summary>Deletes the lock whoever holds it, and wakes the next waiter; true when a key was deleted.</summary>
    public async Task<bool> ForceReleaseAsync(string key, string notice)
    {
        var result = (RedisResult[])(await LockScripts.ForceRelease
            .EvaluateAsync(_database, [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.ReadersKey(key)], [string.Empty, notice, _handoffGraceMs, PublishCommand])
            .ConfigureAwait(false))!;
        await GoOnWakingAsync(WakeScripts.ForLock(key), notice, (long)result[1]).ConfigureAwait(false);
        return (long)result[0] == 1;
    }

    /// <summary>
    /// Waits until enough replicas have what <paramref name="granting"/> just wrote (WAIT covers
    /// every earlier write of the connection, and the script went on the same one: the key's
    /// primary). Too few in time: the grant does not count, since a failover could lose it. A new
    /// lock (<paramref name="giveBack"/> is its id) is given back; an extension is left as it
    /// is - the primary keeps the longer TTL, which harms nobody, and the holder does not count on
    /// it, so a failover cannot take back a TTL the holder relies on.
    /// </summary>
    private async Task<NodeResult> ReplicatedAsync(Task<NodeResult> granting, LockTarget target, string? giveBack)
    {
        var result = await granting.ConfigureAwait(false);
        if (result.Reply != NodeReply.Granted)
        {
            return result;
        }

        var server = Multiplexer.GetServer((RedisKey)target.Key);
        var confirmed = (long)await server.ExecuteAsync("WAIT", _waitForReplicas, _replicaTimeoutMs).ConfigureAwait(false);
        if (confirmed >= _waitForReplicas)
        {
            return result;
        }

        if (giveBack is not null)
        {
            await ReleaseAsync(target, giveBack, ReleaseNotice.New(giveBack)).ConfigureAwait(false);
        }

        throw new LockBackendException(
            $"{confirmed} of the {_waitForReplicas} replica(s) asked for (LockOptions.WaitForReplicas) confirmed the " +
            (giveBack is null ? "extension" : "lock") + $" within {_replicaTimeoutMs} ms, so it " +
            (giveBack is null ? "does not count" : "was given back"));
    }

    /// <summary>The acquire script's reply: {1, token} when taken, {0, holder's PTTL} when not.</summary>
    private static NodeResult ReadAcquireReply(RedisResult result)
    {
        var reply = (RedisResult[])result!;
        if ((long)reply[0] == 1)
        {
            return NodeResult.GrantedWith((long)reply[1]);
        }

        // -2, the key missing although the take failed: it expired between the two commands (a
        // server that does not stop its clock for a script, as Garnet), so look again at once.
        var holderTtl = (long)reply[1];
        return NodeResult.Refused(holderTtl >= 0 ? TimeSpan.FromMilliseconds(holderTtl) : holderTtl == KeyMissing ? TimeSpan.Zero : null);
    }

    // What PTTL answers for a key that does not exist.
    private const long KeyMissing = -2;

    /// <summary>
    /// The release script's reply: 1 released, 0 not ours, 2 or 3 released with dead (or marked)
    /// waiters in the way (a script stops after 64 steps): waking goes on in further calls, in the
    /// background, since the release itself is done.
    /// </summary>
    private static NodeResult ReadReleaseReply(RedisResult result, (RedisLockNode Node, WakeScripts Line, string Notice) release)
    {
        var reply = (long)result;
        if (reply >= LineNeedsAnotherPass)
        {
            _ = release.Node.GoOnWakingQuietlyAsync(release.Line, release.Notice, reply);
        }

        return reply == 0 ? NodeResult.Denied : NodeResult.Granted;
    }

    /// <summary>
    /// Goes on walking the line after a script stopped early (see wake-next.lua): pass-on.lua with no
    /// departing waiter until a live waiter is woken, then standby-next.lua until the next one is told
    /// (the scripts of the kind of hold, see <see cref="WakeScripts"/>).
    /// </summary>
    private async Task GoOnWakingAsync(WakeScripts line, string notice, long woke)
    {
        while (woke >= LineNeedsAnotherPass)
        {
            var script = woke == LineNeedsAnotherPass ? line.PassOn : line.StandbyNext;
            woke = (long)await script
                .EvaluateAsync(_database, line.Keys, [string.Empty, notice, _handoffGraceMs, PublishCommand])
                .ConfigureAwait(false);
        }
    }

    private async Task GoOnWakingQuietlyAsync(WakeScripts line, string notice, long woke)
    {
        try
        {
            await GoOnWakingAsync(line, notice, woke).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Waiters also look again when the lock's TTL runs out.
        }
    }

    private RedisValue[] AcquireArgs(string id, TimeSpan ttl, string waiterId) => _fenceArgs.Length == 0
        ? [id, ToMilliseconds(ttl), waiterId]
        : [id, ToMilliseconds(ttl), waiterId, _fenceArgs[0], _fenceArgs[1]];

    private static NodeResult ReadYesNo(RedisResult result) => (long)result == 1 ? NodeResult.Granted : NodeResult.Denied;

    /// <summary>
    /// Whether wake-ups travel on sharded pub/sub (SPUBLISH/SSUBSCRIBE): in Redis Cluster 7.0 and
    /// later, where a plain PUBLISH would be broadcast to every node of the cluster and its
    /// listener count would cover only the node that ran the script. A wake channel shares its
    /// lock's hash slot, so the script may publish on it.
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

    // What wake-next.lua returns when it stopped early: 2 before waking anyone, 3 before finding
    // the waiter to stand by behind the one it woke.
    private const long LineNeedsAnotherPass = 2;

    private string PublishCommand => Sharded ? "SPUBLISH" : "PUBLISH";

    // PX and PEXPIRE take whole milliseconds; rounding up never shortens what the caller asked for.
    private static long ToMilliseconds(TimeSpan ttl) => (long)Math.Ceiling(ttl.TotalMilliseconds);
}
