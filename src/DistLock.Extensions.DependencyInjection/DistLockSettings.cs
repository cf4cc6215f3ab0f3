namespace DistLock;

/// <summary>
/// DistLock's settings as they appear in configuration (the section <c>"DistLock"</c> by
/// default), bound and validated at start-up by <c>services.AddDistLock(...)</c>: <see cref="Redis"/>,
/// and every other key bound onto <see cref="Options"/> by its name (<c>"Ttl": "30s"</c> sets
/// <see cref="LockOptions.Ttl"/>). Each setting left out keeps the <see cref="LockOptions"/> default.
/// </summary>
/// <example>
/// <code>
/// "DistLock": {
///   "Redis": [ "redis-a:6379", "redis-b:6379", "redis-c:6379" ],
///   "Ttl": "30s",
///   "KeyPrefix": "orders:lock:"
/// }
/// </code>
/// </example>
public sealed class DistLockSettings
{
    /// <summary>The configuration section read by default.</summary>
    public const string SectionName = "DistLock";

    /// <summary>
    /// StackExchange.Redis configuration strings: one for a single Redis deployment (in
    /// configuration a plain string, <c>"Redis": "host:6379,password=..."</c>), several for Redlock
    /// (a list, one per independent master). Empty uses an <c>IConnectionMultiplexer</c> already registered in the container.
    /// </summary>
    public IList<string> Redis { get; } = [];

    /// <summary>
    /// The manager's options. Configuration binds its keys onto them (the section's keys are
    /// <see cref="LockOptions"/>' property names); code can set them too, in <c>AddDistLock</c>'s
    /// <c>configure</c>. Checked when the host starts by <see cref="LockOptions"/>' own rules, each
    /// error naming its configuration key (<c>DistLock:RetryDelay: ...</c>). The host's
    /// <c>IMeterFactory</c> is used unless <see cref="LockOptions.MeterFactory"/> is set.
    /// </summary>
    public LockOptions Options { get; } = new();

    /// <summary>Problems found while binding configuration (unknown keys, unreadable values), each naming its key.</summary>
    internal List<string> BindErrors { get; } = [];

    /// <summary>The configuration path the settings were read from ("DistLock"), for messages; null when none was given.</summary>
    internal string? ConfigurationPath { get; set; }
}
