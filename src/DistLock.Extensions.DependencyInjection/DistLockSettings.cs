namespace DistLock;

/// <summary>
/// DistLock's settings as they appear in configuration (the section <c>"DistLock"</c> by
/// default), bound and validated at start-up by <c>services.AddDistLock(...)</c>. Each setting
/// left out keeps the <see cref="LockOptions"/> default.
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

    /// <summary><see cref="LockOptions.Ttl"/>.</summary>
    public TimeSpan? Ttl { get; set; }

    /// <summary><see cref="LockOptions.RetryDelay"/>.</summary>
    public TimeSpan? RetryDelay { get; set; }

    /// <summary><see cref="LockOptions.MaxRetries"/>.</summary>
    public int? MaxRetries { get; set; }

    /// <summary><see cref="LockOptions.KeyPrefix"/>.</summary>
    public string? KeyPrefix { get; set; }

    /// <summary><see cref="LockOptions.DefaultWaitTimeout"/>.</summary>
    public TimeSpan? DefaultWaitTimeout { get; set; }

    /// <summary><see cref="LockOptions.NodeTimeout"/>.</summary>
    public TimeSpan? NodeTimeout { get; set; }

    /// <summary><see cref="LockOptions.ClockDriftFactor"/>.</summary>
    public double? ClockDriftFactor { get; set; }

    /// <summary><see cref="LockOptions.VersionCheck"/>.</summary>
    public bool? VersionCheck { get; set; }

    /// <summary><see cref="LockOptions.AutoReleaseOnDispose"/>.</summary>
    public bool? AutoReleaseOnDispose { get; set; }

    /// <summary><see cref="LockOptions.AutoExtend"/>.</summary>
    public bool? AutoExtend { get; set; }

    /// <summary><see cref="LockOptions.HolderLabel"/>.</summary>
    public string? HolderLabel { get; set; }

    /// <summary><see cref="LockOptions.MaxHoldTime"/>.</summary>
    public TimeSpan? MaxHoldTime { get; set; }

    /// <summary><see cref="LockOptions.WaitForReplicas"/>.</summary>
    public int? WaitForReplicas { get; set; }

    /// <summary><see cref="LockOptions.ReplicaTimeout"/>.</summary>
    public TimeSpan? ReplicaTimeout { get; set; }

    /// <summary>Problems found while binding configuration (unknown keys, unreadable values), each naming its key.</summary>
    internal List<string> BindErrors { get; } = [];

    /// <summary>The configuration path the settings were read from ("DistLock"), for messages; null when none was given.</summary>
    internal string? ConfigurationPath { get; set; }

    /// <summary>
    /// Builds the <see cref="LockOptions"/>; each invalid setting adds a message naming its
    /// configuration key to <paramref name="errors"/> instead of throwing.
    /// </summary>
    internal LockOptions ToLockOptions(string section, ICollection<string> errors)
    {
        var options = new LockOptions();
        Apply(Ttl, v => options.Ttl = v, section, nameof(Ttl), errors);
        Apply(RetryDelay, v => options.RetryDelay = v, section, nameof(RetryDelay), errors);
        Apply(MaxRetries, v => options.MaxRetries = v, section, nameof(MaxRetries), errors);
        Apply(DefaultWaitTimeout, v => options.DefaultWaitTimeout = v, section, nameof(DefaultWaitTimeout), errors);
        Apply(NodeTimeout, v => options.NodeTimeout = v, section, nameof(NodeTimeout), errors);
        Apply(ClockDriftFactor, v => options.ClockDriftFactor = v, section, nameof(ClockDriftFactor), errors);
        Apply(VersionCheck, v => options.VersionCheck = v, section, nameof(VersionCheck), errors);
        Apply(AutoReleaseOnDispose, v => options.AutoReleaseOnDispose = v, section, nameof(AutoReleaseOnDispose), errors);
        Apply(AutoExtend, v => options.AutoExtend = v, section, nameof(AutoExtend), errors);
        Apply(MaxHoldTime, v => options.MaxHoldTime = v, section, nameof(MaxHoldTime), errors);
        Apply(WaitForReplicas, v => options.WaitForReplicas = v, section, nameof(WaitForReplicas), errors);
        Apply(ReplicaTimeout, v => options.ReplicaTimeout = v, section, nameof(ReplicaTimeout), errors);
        if (KeyPrefix is not null)
        {
            Try(() => options.KeyPrefix = KeyPrefix, section, nameof(KeyPrefix), errors);
        }

        if (HolderLabel is not null)
        {
            Try(() => options.HolderLabel = HolderLabel, section, nameof(HolderLabel), errors);
        }

        // A TTL that automatic extension cannot keep: the lock would be lost before its first extension is answered.
        if (Ttl is { } ttl && AutoExtend != false && ttl >= LockOptions.MinTtl)
        {
            var lowest = DurationText.MinimumExtendableTtl(options.NodeTimeout);
            if (ttl < lowest)
            {
                errors.Add($"{section}:{nameof(Ttl)}: {DurationText.Format(ttl)} is too short to be extended in time (an extension after a third of it may take NodeTimeout {DurationText.Format(options.NodeTimeout)}); the lowest that works is {DurationText.Format(lowest)}.");
            }
        }

        return options;
    }

    private static void Apply<T>(T? value, Action<T> set, string section, string key, ICollection<string> errors)
        where T : struct
    {
        if (value is { } present)
        {
            Try(() => set(present), section, key, errors);
        }
    }

    private static void Try(Action set, string section, string key, ICollection<string> errors)
    {
        try
        {
            set();
        }
        catch (ArgumentException ex)
        {
            // The setter's message names the option; the first line says what is wrong with it.
            errors.Add($"{section}:{key}: {ex.Message.Split('\n')[0].Trim()}");
        }
    }
}
