using System.ComponentModel.DataAnnotations;

namespace DistLock;

/// <summary>
/// The settings of one acquisition: how long the lock lives and is kept alive, how long and how
/// often a caller waits, and who it says it is. A manager applies its
/// <see cref="LockManagerOptions.Defaults"/> to every acquisition; a <see cref="LockRequest"/>
/// overrides <see cref="Ttl"/>, <see cref="Timeout"/>, <see cref="AutoExtend"/> and
/// <see cref="MaxHoldTime"/> for one call.
/// </summary>
/// <example>
/// <code>
/// var options = new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromSeconds(10), Timeout = TimeSpan.FromSeconds(5) } };
/// </code>
/// </example>
public sealed class AcquireOptions : IValidatableObject
{
    /// <summary>The shortest accepted time to live: validity must leave room for the drift allowance.</summary>
    public static readonly TimeSpan MinTtl = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest accepted time to live (7 days); longer holds should extend the lock.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(7);

    /// <summary>The shortest accepted <see cref="RetryDelay"/> (1 ms): a waiter that polls must pause between attempts.</summary>
    public static readonly TimeSpan MinRetryDelay = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="HolderLabel"/>.</summary>
    public const int MaxHolderLabelLength = 200;

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a lock lives in Redis unless extended or released (dist-lock <c>ttl</c>).
    /// Default 30 s; from <see cref="MinTtl"/> to <see cref="MaxTtl"/>.
    /// </summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an acquisition waits when the call names no timeout (<c>TryAcquireAsync</c> waits
    /// zero unless told). Default <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> (until
    /// acquired, cancelled or out of retries). Zero or more; a timeout longer than about 49.7 days
    /// (2^32 - 2 ms, the longest timer .NET accepts), <see cref="TimeSpan.MaxValue"/> included, waits forever too.
    /// </summary>
    public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

    /// <summary>
    /// The longest pause between two attempts (dist-lock <c>retryDelay</c>, Redis::DistLock
    /// <c>retry_delay</c>) where a waiter cannot be woken by a release (no subscription, a finite
    /// <see cref="MaxRetries"/>, a split Redlock vote). Each pause is drawn at random between half of
    /// it and all of it, so that competing clients do not retry in lockstep. Default 50 ms; from
    /// <see cref="MinRetryDelay"/> (1 ms) to 1 hour: zero would make a waiter that cannot be woken
    /// ask Redis in a loop as fast as it answers.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How many times an acquisition is retried after its first attempt: 0 tries once, 2 tries
    /// three times; -1 (the default) retries until the timeout. dist-lock's <c>maxRetries</c> and
    /// Redis::DistLock's <c>retry_count</c> count attempts, so their <c>3</c> is <c>MaxRetries = 2</c>
    /// here. -1 or more.
    /// </summary>
    public int MaxRetries { get; set; } = -1;

    /// <summary>
    /// Keep held locks alive: each lock is extended by its TTL every third of its TTL until it is
    /// released, <see cref="MaxHoldTime"/> passes, or an extension is refused (then
    /// <see cref="LockHandle.LostToken"/> fires). One timer serves all of a manager's locks. Default true.
    /// </summary>
    public bool AutoExtend { get; set; } = true;

    /// <summary>
    /// How long automatic extension keeps a lock alive after it was acquired; after that the lock
    /// expires with its last TTL unless released first. Null (the default) extends until released,
    /// and so does <see cref="TimeSpan.MaxValue"/> (or any time longer than the process runs). Must be positive.
    /// </summary>
    public TimeSpan? MaxHoldTime { get; set; }

    /// <summary>
    /// Who holds the locks, as people should see it in <c>distlock status</c>,
    /// <see cref="LockInfo.HolderLabel"/> and logs: for example <c>"web-3 pid 4121"</c> or a job name.
    /// When set, the holder ids DistLock makes carry it with the time of acquisition
    /// (<c>{label}|{unix ms}|{128 random bits}</c>), which costs no command; an id chosen in
    /// <see cref="LockRequest.HolderId"/> is used as it is. Default null: ids are 128 random bits.
    /// Not blank, at most <see cref="MaxHolderLabelLength"/> characters, without control characters.
    /// </summary>
    public string? HolderLabel { get; set; }

    /// <summary>Checks every setting, as a manager does when it is built.</summary>
    /// <exception cref="ArgumentException">A setting has an invalid value. The message names every
    /// invalid one and its rule; <see cref="ArgumentException.ParamName"/> is the first of them.</exception>
    public void Validate() => OptionProblems.ThrowIfAny(Problems(string.Empty));

    /// <summary>The same rules as <see cref="Validate()"/>, one result per invalid setting, naming it as the member.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        OptionProblems.AsResults(Problems(string.Empty));

    internal AcquireOptions Clone() => (AcquireOptions)MemberwiseClone();

    /// <summary>Every rule, each once; <paramref name="path"/> prefixes the names (<c>"Defaults."</c>).</summary>
    internal OptionProblems Problems(string path)
    {
        var problems = new OptionProblems(path);
        problems.Add(nameof(Ttl), TtlProblem(Ttl, path + nameof(Ttl)));
        problems.Add(nameof(Timeout), TimeoutProblem(Timeout, path + nameof(Timeout)));
        problems.Add(nameof(RetryDelay), RetryDelay < MinRetryDelay || RetryDelay > MaxRetryDelay
            ? $"{path}RetryDelay must be between {MinRetryDelay.TotalMilliseconds} ms and {MaxRetryDelay.TotalHours} hour: zero would poll Redis in a loop while release announcements cannot arrive."
            : null);
        problems.Add(nameof(MaxRetries), MaxRetries < -1 ? $"{path}MaxRetries must be -1 (retry until the timeout) or more." : null);
        problems.Add(nameof(MaxHoldTime), MaxHoldTimeProblem(MaxHoldTime, path + nameof(MaxHoldTime)));
        problems.Add(nameof(HolderLabel), HolderLabel is null ? null
            : string.IsNullOrWhiteSpace(HolderLabel) ? $"{path}HolderLabel must not be empty or blank (null for none)."
            : HolderLabel.Length > MaxHolderLabelLength || HolderLabel.Any(char.IsControl)
                ? $"{path}HolderLabel must be at most {MaxHolderLabelLength} characters, without control characters."
                : null);
        return problems;
    }

    // The rules a LockRequest (and LockHandle.ExtendAsync) applies to its own values too: one copy
    // each, worded with the name of whatever carries the value.
    private static string? TtlProblem(TimeSpan value, string name) =>
        value < MinTtl || value > MaxTtl ? $"{name} must be between {MinTtl.TotalMilliseconds} ms and {MaxTtl.TotalDays} days." : null;

    private static string? TimeoutProblem(TimeSpan value, string name) =>
        value != System.Threading.Timeout.InfiniteTimeSpan && value < TimeSpan.Zero
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
