using System.ComponentModel.DataAnnotations;

namespace DistLock;

/// <summary>
/// The settings of a manager, whatever keeps its locks: where its keys live, how waiters hand a
/// lock over, how it reports, and the <see cref="Defaults"/> of every acquisition.
/// <see cref="InMemoryLockManager"/> takes these; <see cref="RedisLockManager"/> takes
/// <see cref="RedisLockManagerOptions"/>, which adds what only Redis needs. Plain properties, checked
/// together when a manager is built (or by <see cref="Validate()"/>), so they can be set in any
/// order and bound from configuration. A manager takes a copy when it is built, so changing the
/// object afterwards does not affect it.
/// </summary>
/// <remarks>
/// Each rule is written once: the managers' constructors and <c>ConnectAsync</c> throw an
/// <see cref="ArgumentException"/> for the parameter <c>options</c> whose message names every
/// invalid setting; <see cref="Validate()"/> throws the same message; and, as an
/// <see cref="IValidatableObject"/>, the options report the same rules to <see cref="Validator"/>
/// (the DistLock.Extensions.DependencyInjection package reports them naming the configuration key).
/// </remarks>
/// <example>
/// <code>
/// ILockManager locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = fakeTime, Defaults = { Ttl = TimeSpan.FromSeconds(5) } });
/// </code>
/// </example>
public class LockManagerOptions : IValidatableObject
{
    /// <summary>The shortest accepted <see cref="HandoffGrace"/>.</summary>
    public static readonly TimeSpan MinHandoffGrace = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest accepted <see cref="HandoffGrace"/>.</summary>
    public static readonly TimeSpan MaxHandoffGrace = TimeSpan.FromSeconds(10);

    private const int MaxKeyPrefixLength = 256;

    /// <summary>
    /// The settings of every acquisition of this manager, unless a <see cref="LockRequest"/> says
    /// otherwise: TTL, timeout, retries, automatic extension, holder label. Set its properties in
    /// place (<c>Defaults = { Ttl = ... }</c>), or give one <see cref="AcquireOptions"/> to several
    /// managers' options: each manager copies it when it is built. Not null.
    /// </summary>
    public AcquireOptions Defaults { get; set; } = new();

    /// <summary>
    /// Prefix of every key DistLock writes (dist-lock <c>keyPrefix</c>). Default <c>"lock:"</c>.
    /// Must not be empty, must not contain <c>{</c> or <c>}</c> (the key's hash tag is ours), and
    /// is at most 256 characters.
    /// </summary>
    public string KeyPrefix { get; set; } = "lock:";

    /// <summary>
    /// How long a released lock (or permit) stays reserved for the waiter it wakes: long enough for
    /// a live waiter's claim to arrive (a round trip), short enough that a waiter that stalled or died
    /// costs the others little: each one at the head of the line delays the next by this much.
    /// Default 50 ms; from <see cref="MinHandoffGrace"/> (1 ms) to <see cref="MaxHandoffGrace"/> (10 s).
    /// </summary>
    public TimeSpan HandoffGrace { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Release every lock the manager still holds when it is disposed (Redis::DistLock
    /// <c>auto_release</c>). Default false: locks then live until released or expired. A process
    /// that is killed disposes nothing; its locks expire after their TTL. With this set, the
    /// manager keeps every handle it hands out until it is released, so a handle the application
    /// drops without releasing is still extended, until the manager is disposed and releases it
    /// (without it, a dropped handle's lock is released once the garbage collector has found the handle).
    /// </summary>
    public bool AutoReleaseOnDispose { get; set; }

    /// <summary>
    /// Where the manager's meter comes from: the host's <see cref="System.Diagnostics.Metrics.IMeterFactory"/>
    /// (dependency injection sets it). Null uses one meter shared by all managers. The meter is
    /// named <see cref="LockTelemetry.Name"/> either way.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>The clock for timeouts, delays, validity and (in memory) expiry. Default <see cref="TimeProvider.System"/>; not null.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// How long a resource's fencing counter (and its line of waiters) outlives the last
    /// acquisition, so that Redis holds state only for locks used recently. Tokens keep rising
    /// after the counter is gone, since a new one starts at the server's clock (see next-fence.lua).
    /// Internal: a test shortens it; one day is far above any TTL and any clock skew between servers.
    /// </summary>
    internal TimeSpan IdleExpiry { get; set; } = DefaultIdleExpiry;

    internal static readonly TimeSpan DefaultIdleExpiry = TimeSpan.FromDays(1);

    /// <summary>Checks every setting, <see cref="Defaults"/> included, as a manager does when it is built.</summary>
    /// <exception cref="ArgumentException">A setting has an invalid value. The message names every
    /// invalid one and its rule; <see cref="ArgumentException.ParamName"/> is the first of them
    /// (e.g. <c>"Defaults.RetryDelay"</c>).</exception>
    public void Validate() => OptionProblems.ThrowIfAny(Problems());

    /// <summary>The same rules as <see cref="Validate()"/>, one result per invalid setting, naming it as the member.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionProblems.AsResults(Problems());

    /// <summary>
    /// What a manager works with: a copy of <paramref name="options"/> (or the defaults), checked.
    /// The copy is what is checked, so a caller changing the object meanwhile cannot slip a bad value in.
    /// </summary>
    /// <exception cref="ArgumentException">For <paramref name="paramName"/>, naming every invalid setting.</exception>
    internal static T ValidatedCopy<T>(T? options, string paramName)
        where T : LockManagerOptions, new()
    {
        var copy = (T)(options ?? new T()).MemberwiseClone();
        copy.Defaults = copy.Defaults?.Clone()!;
        var problems = copy.Problems();
        return problems.Count == 0 ? copy : throw new ArgumentException(problems.Describe(), paramName);
    }

    /// <summary>Every rule of these settings, each once; a derived type adds its own.</summary>
    private protected virtual OptionProblems Problems()
    {
        var problems = new OptionProblems(string.Empty);
        if (Defaults is null)
        {
            problems.Add(nameof(Defaults), "Defaults must not be null.");
        }
        else
        {
            problems.Add(Defaults.Problems(nameof(Defaults) + "."));
        }

        problems.Add(nameof(KeyPrefix), string.IsNullOrEmpty(KeyPrefix) ? "KeyPrefix must not be empty."
            : KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0 ? "KeyPrefix must not contain '{' or '}': DistLock puts the resource in a Redis Cluster hash tag."
            : KeyPrefix.Length > MaxKeyPrefixLength ? $"KeyPrefix must be at most {MaxKeyPrefixLength} characters."
            : null);
        problems.Add(nameof(HandoffGrace), HandoffGrace < MinHandoffGrace || HandoffGrace > MaxHandoffGrace
            ? $"HandoffGrace must be between {MinHandoffGrace.TotalMilliseconds} ms and {MaxHandoffGrace.TotalSeconds} s."
            : null);
        problems.Add(nameof(TimeProvider), TimeProvider is null ? "TimeProvider must not be null." : null);
        return problems;
    }
}
