namespace DistLock;

/// <summary>
/// The settings of a <see cref="RedisLockManager"/>: those of every manager
/// (<see cref="LockManagerOptions"/>, with the <see cref="LockManagerOptions.Defaults"/> of each
/// acquisition), and what only Redis needs: how long a node may take, replicas, clock drift, the
/// version check. Connection settings (password, TLS, Sentinel) belong to the StackExchange.Redis
/// configuration string.
/// </summary>
/// <example>
/// <code>
/// var options = new RedisLockManagerOptions { KeyPrefix = "orders:lock:", NodeTimeout = TimeSpan.FromSeconds(2), Defaults = { Ttl = TimeSpan.FromSeconds(10) } };
/// await using var locks = await RedisLockManager.ConnectAsync("localhost:6379", options);
/// </code>
/// </example>
/// <remarks>
/// Not sealed so that the dependency injection package's <c>DistLockSettings</c> can be these
/// settings plus its Redis connection strings, bound from one configuration section whose keys are
/// these property names. A derived type cannot change the rules: they are private to DistLock.
/// </remarks>
public class RedisLockManagerOptions : LockManagerOptions
{
    private static readonly TimeSpan MaxNodeTimeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The longest DistLock waits for one Redis node to answer one command. A node that does not
    /// answer in time counts as failed; with a single node that is a
    /// <see cref="LockBackendException"/>. Default 1 s; must be positive and at most 1 minute.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many replicas of a node must have a new lock, or an extension, before the node's grant
    /// counts (Redis <c>WAIT</c> after the acquire or extend, on the same connection). With
    /// Sentinel, a lock acquired just before a failover is then on the replica that takes over,
    /// instead of being lost with the old primary's unreplicated writes, and its TTL there is the
    /// one the holder counts on. A node whose replicas do not confirm within
    /// <see cref="ReplicaTimeout"/> counts as failed (with one node: a
    /// <see cref="LockBackendException"/>): a new lock is given back; an extension does not count
    /// (automatic extension tries again; the lock is lost only if none is confirmed in time).
    /// Default 0: do not wait; at most 100. WAIT holds the connection, which the manager shares, for up to
    /// <see cref="ReplicaTimeout"/>. See docs/deployment.md.
    /// </summary>
    public int WaitForReplicas { get; set; }

    /// <summary>
    /// How long the <c>WAIT</c> of <see cref="WaitForReplicas"/> may take, in whole milliseconds.
    /// Default 100 ms; must be from 1 ms to 1 minute. The whole call, WAIT included, is still
    /// bounded by <see cref="NodeTimeout"/>.
    /// </summary>
    public TimeSpan ReplicaTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The share of the TTL set aside for clock drift between this process and Redis. A lock's
    /// validity is <c>TTL - time spent acquiring - (TTL x factor + 2 ms)</c>. Default 0.01, from 0 to 0.5.
    /// </summary>
    public double ClockDriftFactor { get; set; } = Algorithm.LockValidity.DefaultDriftFactor;

    /// <summary>
    /// Refuse Redis servers older than 2.6.12 with a <see cref="DistLockException"/> at first use
    /// (Redis::DistLock <c>version_check</c>). Default true.
    /// </summary>
    public bool VersionCheck { get; set; } = true;

    private protected override OptionProblems Problems()
    {
        var problems = base.Problems();
        problems.Add(nameof(NodeTimeout), NodeTimeout <= TimeSpan.Zero || NodeTimeout > MaxNodeTimeout
            ? "NodeTimeout must be more than zero and at most 1 minute."
            : null);
        problems.Add(nameof(WaitForReplicas), WaitForReplicas is < 0 or > 100 ? "WaitForReplicas must be from 0 to 100." : null);
        problems.Add(nameof(ReplicaTimeout), ReplicaTimeout < TimeSpan.FromMilliseconds(1) || ReplicaTimeout > MaxNodeTimeout
            ? "ReplicaTimeout must be from 1 ms to 1 minute."
            : null);
        problems.Add(nameof(ClockDriftFactor), double.IsNaN(ClockDriftFactor) || ClockDriftFactor < 0 || ClockDriftFactor > 0.5
            ? "ClockDriftFactor must be between 0 and 0.5."
            : null);
        return problems;
    }
}
