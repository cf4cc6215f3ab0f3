namespace DistLock;

/// <summary>
/// DistLock's settings as they appear in configuration (the section <c>"DistLock"</c> by default):
/// the <see cref="RedisLockManagerOptions"/> of the manager, each under its property name
/// (<c>"KeyPrefix"</c>, <c>"NodeTimeout"</c>, <c>"Defaults": { "Ttl": "30s" }</c>), and
/// <see cref="Redis"/>, where to connect. Bound and checked when the host starts by
/// <c>services.AddDistLock(...)</c>; each setting left out keeps its default.
/// </summary>
/// <example>
/// <code>
/// "DistLock": {
///   "Redis": [ "redis-a:6379", "redis-b:6379", "redis-c:6379" ],
///   "KeyPrefix": "orders:lock:",
///   "Defaults": { "Ttl": "30s", "Timeout": "10s" }
/// }
/// </code>
/// </example>
public sealed class DistLockSettings : RedisLockManagerOptions
{
    /// <summary>The configuration section read by default.</summary>
    public const string SectionName = "DistLock";

    /// <summary>
    /// StackExchange.Redis configuration strings: one for a single Redis deployment (in
    /// configuration a plain string, <c>"Redis": "host:6379,password=..."</c>), several for Redlock
    /// (a list, one per independent master). Empty uses an <c>IConnectionMultiplexer</c> already
    /// registered in the container.
    /// </summary>
    public RedisConfigurations Redis { get; set; } = [];

    /// <summary>Why configuration could not be bound (unknown keys, unreadable values), each naming its key; reported at start-up.</summary>
    internal List<string> BindErrors { get; } = [];
}
