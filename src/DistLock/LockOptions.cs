using System.ComponentModel.DataAnnotations;

namespace DistLock;

/// <summary>
/// Settings of a <see cref="RedisLockManager"/> or an <see cref="InMemoryLockManager"/>: plain
/// properties, checked together when a manager is built (or by <see cref="Validate()"/>), so they
/// can be set in any order and bound from configuration. A manager takes a copy when it is built,
/// so changing the object afterwards does not affect it.
/// </summary>
/// <remarks>
/// Each rule is written once, here: the managers' constructors and <c>ConnectAsync</c> throw an
/// <see cref="ArgumentException"/> for the parameter <c>options</c> whose message names every
/// invalid option; <see cref="Validate()"/> throws the same message; and, as an
/// <see cref="IValidatableObject"/>, the options report the same rules to
/// <see cref="Validator"/> and to <c>services.AddOptions&lt;T&gt;().ValidateDataAnnotations()</c>
/// (the DistLock.Extensions.DependencyInjection package reports them naming the configuration key).
/// </remarks>
/// <example>
/// <code>
/// var options = new LockOptions { Ttl = TimeSpan.FromSeconds(10), KeyPrefix = "orders:lock:" };
/// await using var locks = await RedisLockManager.ConnectAsync("localhost:6379", options);
/// </code>
/// </example>
public sealed class LockOptions : IValidatableObject
{
    /// <summary>The shortest accepted time to live: validity must leave room for the drift allowance.</summary>
    public static readonly TimeSpan MinTtl = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest accepted time to live (7 days); longer holds should extend the lock.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(7);

    /// <summary>The shortest accepted <see cref="RetryDelay"/> (1 ms): a waiter that polls must pause between attempts.</summary>
    public static readonly TimeSpan MinRetryDelay = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="HolderLabel"/>.</summary>
    public const int MaxHolderLabelLength = 200;

    private const int MaxKeyPrefixLength = 256;

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(1);

    private static readonly TimeSpan MaxNodeTimeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a lock lives in Redis unless extended or released (dist-lock <c>ttl</c>).
    /// Default 30 s; from <see cref="MinTtl"/> to <see cref="MaxTtl"/>.
    /// </summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest pause between two acquisition attempts (dist-lock <c>retryDelay</c>,
    /// Redis::DistLock <c>retry_delay</c>) where waiters cannot be woken by a release (no
    /// subscription, a finite <see cref="MaxRetries"/>, a split Redlock vote). Each pause is drawn
    /// at random between half of it and all of it, so that competing clients do not retry in
    /// lockstep. It is also how long a released lock stays reserved for the waiter it wakes
    /// (clamped to 10 ms..1 s). Default 50 ms; from <see cref="MinRetryDelay"/> (1 ms) to 1 hour:
    /// zero would make a waiter that cannot be woken ask Redis in a loop as fast as it answers.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How many times an acquisition is retried after its first attempt: 0 tries once, 2 tries
    /// three times; -1 (the default) retries until the wait timeout. dist-lock's
    /// <c>maxRetries</c> and Redis::DistLock's <c>retry_count</c> count attempts, so their
    /// <c>3</c> is <c>MaxRetries = 2</c> here. -1 or more.
    /// </summary>
    public int MaxRetries { get; set; } = -1;

    /// <summary>
    /// Who holds the locks of this manager, as people should see it in <c>distlock status</c>,
    /// <see cref="LockInfo.HolderLabel"/> and logs: for example <c>"web-3 pid 4121"</c> or a job name.
    /// When set, the lock values DistLock makes carry it with the time of acquisition
    /// (<c>{label}|{unix ms}|{128 random bits}</c>), which costs no command; a value chosen in
    /// <see cref="LockRequest.Id"/> is used as it is. Default null: values are 128 random bits.
    /// Not blank, at most <see cref="MaxHolderLabelLength"/> characters, without control characters.
    /// </summary>
    public string? HolderLabel { get; set; }

    /// <summary>
    /// Prefix of every key DistLock writes (dist-lock <c>keyPrefix</c>). Default <c>"lock:"</c>.
    /// Must not be empty, must not contain <c>{</c> or <c>}</c> (the key's hash tag is ours), and
    /// is at most 256 characters.
    /// </summary>
    public string KeyPrefix { get; set; } = "lock:";

    /// <summary>
    /// How long <c>AcquireAsync</c> waits when the call names no timeout. Default
    /// <see cref="Timeout.InfiniteTimeSpan"/> (wait until acquired, cancelled or out of retries).
    /// Zero or more; a timeout longer than about 49.7 days (2^32 - 2 ms, the longest timer .NET
    /// accepts), <see cref="TimeSpan.MaxValue"/> included, waits forever too.
    /// </summary>
    public TimeSpan DefaultWaitTimeout { get; set; } = Timeout.InfiniteTimeSpan;

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
    public double ClockDriftFactor { get; set; } = 0.01;

    /// <summary>
    /// Refuse Redis servers older than 2.6.12 with a <see cref="DistLockException"/> at first use
    /// (Redis::DistLock <c>version_check</c>). Default true.
    /// </summary>
    public bool VersionCheck { get; set; } = true;

    /// <summary>
    /// Release every lock the manager still holds when it is disposed (Redis::DistLock
    /// <c>auto_release</c>). Default false: locks then live until released or expired. A process
    /// that is killed disposes nothing; its locks expire after their TTL. With this set, the
    /// manager keeps every handle it hands out until it is released, so a handle the application
    /// drops without releasing is still extended, until the manager is disposed and releases it
    /// (without it, a dropped handle's lock expires once the garbage collector has found the handle).
    /// </summary>
    public bool AutoReleaseOnDispose { get; set; }

    /// <summary>
    /// Keep held locks alive: each lock is extended by its TTL every third of its TTL until it is
    /// released, <see cref="MaxHoldTime"/> passes, or an extension is refused (then
    /// <see cref="LockHandle.LostToken"/> fires). One timer serves all of a manager's locks.
    /// Default true; <see cref="LockRequest.AutoExtend"/> overrides it per lock.
    /// </summary>
    public bool AutoExtend { get; set; } = true;

    /// <summary>
    /// How long automatic extension keeps a lock alive after it was acquired; after that the lock
    /// expires with its last TTL unless released first. Null (the default) extends until released,
    /// and so does <see cref="TimeSpan.MaxValue"/> (or any time longer than the process runs).
    /// Must be positive; <see cref="LockRequest.MaxHoldTime"/> overrides it per lock.
    /// </summary>
    public TimeSpan? MaxHoldTime { get; set; }

    /// <summary>
    /// Where the manager's meter comes from: the host's <see cref="System.Diagnostics.Metrics.IMeterFactory"/>
    /// (dependency injection sets it). Null uses one meter shared by all managers. The meter is
    /// named <see cref="LockTelemetry.Name"/> either way.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>The clock for timeouts, delays and validity. Default <see cref="TimeProvider.System"/>; not null.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Checks every option, as a manager does when it is built.
    /// </summary>
    /// <exception cref="ArgumentException">An option has an invalid value. The message names every
    /// invalid option and its rule; <see cref="ArgumentException.ParamName"/> is the first of them
    /// (e.g. <c>"RetryDelay"</c>).</exception>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(Describe(problems), problems[0].Option);
        }
    }

    /// <summary>The same rules as <see cref="Validate()"/>, one result per invalid option, naming it as the member.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        Problems().Select(p => new ValidationResult(p.Message, [p.Option]));

    /// <summary>
    /// How long a released lock stays reserved for the waiter it woke: long enough for a live
    /// waiter's attempt to arrive, short enough that a dead one costs little.
    /// </summary>
    internal TimeSpan HandoffGrace =>
        TimeSpan.FromTicks(Math.Clamp(RetryDelay.Ticks, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));

    /// <summary>
    /// How long a resource's fencing counter (and its line of waiters, in memory) outlives the
    /// last acquisition, so that Redis holds state only for locks used recently. Tokens keep rising
    /// after the counter is gone, since a new one starts at the server's clock (see next-fence.lua).
    /// Internal: a test shortens it; one day is far above any TTL and any clock skew between servers.
    /// </summary>
    internal TimeSpan IdleExpiry { get; set; } = DefaultIdleExpiry;

    internal static readonly TimeSpan DefaultIdleExpiry = TimeSpan.FromDays(1);

    internal LockOptions Clone() => (LockOptions)MemberwiseClone();

    /// <summary>
    /// What a manager works with: a copy of <paramref name="options"/> (or the defaults), checked.
    /// The copy is what is checked, so a caller changing the object meanwhile cannot slip a bad value in.
    /// </summary>
    /// <exception cref="ArgumentException">For <paramref name="paramName"/>, naming every invalid option.</exception>
    internal static LockOptions ValidatedCopy(LockOptions? options, string paramName)
    {
        var copy = options?.Clone() ?? new LockOptions();
        var problems = copy.Problems();
        return problems.Count == 0 ? copy : throw new ArgumentException(Describe(problems), paramName);
    }

    /// <summary>Every rule of the options, each once; the per-lock ones are shared with <see cref="LockRequest"/>.</summary>
    private List<(string Option, string Message)> Problems()
    {
        var problems = new List<(string Option, string Message)>();
        Add(nameof(Ttl), TtlProblem(Ttl, nameof(Ttl)));
        Add(nameof(RetryDelay), RetryDelay < MinRetryDelay || RetryDelay > MaxRetryDelay
            ? $"RetryDelay must be between {MinRetryDelay.TotalMilliseconds} ms and {MaxRetryDelay.TotalHours} hour: zero would poll Redis in a loop while release announcements cannot arrive."
            : null);
        Add(nameof(MaxRetries), MaxRetries < -1 ? "MaxRetries must be -1 (retry until the timeout) or more." : null);
        Add(nameof(HolderLabel), HolderLabel is null ? null
            : string.IsNullOrWhiteSpace(HolderLabel) ? "HolderLabel must not be empty or blank (null for none)."
            : HolderLabel.Length > MaxHolderLabelLength || HolderLabel.Any(char.IsControl)
                ? $"HolderLabel must be at most {MaxHolderLabelLength} characters, without control characters."
                : null);
        Add(nameof(KeyPrefix), string.IsNullOrEmpty(KeyPrefix) ? "KeyPrefix must not be empty."
            : KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0 ? "KeyPrefix must not contain '{' or '}': DistLock puts the resource in a Redis Cluster hash tag."
            : KeyPrefix.Length > MaxKeyPrefixLength ? $"KeyPrefix must be at most {MaxKeyPrefixLength} characters."
            : null);
        Add(nameof(DefaultWaitTimeout), TimeoutProblem(DefaultWaitTimeout, nameof(DefaultWaitTimeout)));
        Add(nameof(NodeTimeout), NodeTimeout <= TimeSpan.Zero || NodeTimeout > MaxNodeTimeout
            ? "NodeTimeout must be more than zero and at most 1 minute."
            : null);
        Add(nameof(WaitForReplicas), WaitForReplicas is < 0 or > 100 ? "WaitForReplicas must be from 0 to 100." : null);
        Add(nameof(ReplicaTimeout), ReplicaTimeout < TimeSpan.FromMilliseconds(1) || ReplicaTimeout > MaxNodeTimeout
            ? "ReplicaTimeout must be from 1 ms to 1 minute."
            : null);
        Add(nameof(ClockDriftFactor), double.IsNaN(ClockDriftFactor) || ClockDriftFactor < 0 || ClockDriftFactor > 0.5
            ? "ClockDriftFactor must be between 0 and 0.5."
            : null);
        Add(nameof(MaxHoldTime), MaxHoldTimeProblem(MaxHoldTime, nameof(MaxHoldTime)));
        Add(nameof(TimeProvider), TimeProvider is null ? "TimeProvider must not be null." : null);
        return problems;

        void Add(string option, string? message)
        {
            if (message is not null)
            {
                problems.Add((option, message));
            }
        }
    }

    private static string Describe(List<(string Option, string Message)> problems) =>
        string.Join(" ", problems.Select(p => p.Message));

    // The rules a LockRequest (and LockHandle.ExtendAsync) applies to its own values too: one copy
    // each, worded with the name of whatever carries the value.
    private static string? TtlProblem(TimeSpan value, string name) =>
        value < MinTtl || value > MaxTtl ? $"{name} must be between {MinTtl.TotalMilliseconds} ms and {MaxTtl.TotalDays} days." : null;

    private static string? TimeoutProblem(TimeSpan value, string name) =>
        value != Timeout.InfiniteTimeSpan && value < TimeSpan.Zero
            ? $"{name} must be zero or more, or Timeout.InfiniteTimeSpan to wait forever."
            : null;

    private static string? MaxHoldTimeProblem(TimeSpan? value, string name) =>
        value is { } hold && hold <= TimeSpan.Zero ? $"{name} must be positive, or null for none." : null;

    internal static TimeSpan CheckTtl(TimeSpan value, string paramName) =>
        ThrowIf(TtlProblem(value, paramName), value, paramName);

    internal static TimeSpan? CheckTimeout(TimeSpan? value, string paramName) =>
        value is { } timeout ? CheckTimeout(timeout, paramName) : null;

    internal static TimeSpan CheckTimeout(TimeSpan value, string paramName) =>
        ThrowIf(TimeoutProblem(value, paramName), value, paramName);

    internal static TimeSpan? CheckMaxHoldTime(TimeSpan? value, string paramName) =>
        ThrowIf(MaxHoldTimeProblem(value, paramName), value, paramName);

    private static T ThrowIf<T>(string? problem, T value, string paramName) =>
        problem is null ? value : throw new ArgumentOutOfRangeException(paramName, value, problem);
}
