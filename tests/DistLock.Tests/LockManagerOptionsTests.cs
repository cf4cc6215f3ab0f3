using System.ComponentModel.DataAnnotations;
using System.Reflection;
using StackExchange.Redis;

namespace DistLock.Tests;

/// <summary>
/// The settings of a manager (<see cref="LockManagerOptions"/>, <see cref="RedisLockManagerOptions"/>)
/// and of each acquisition (<see cref="AcquireOptions"/>, reached as <see cref="LockManagerOptions.Defaults"/>):
/// each rule is written once and reported alike by <c>Validate()</c>, by the managers' constructors
/// and to DataAnnotations, naming the setting as configuration names it (<c>"Defaults.Ttl"</c>).
/// </summary>
public sealed class LockManagerOptionsTests
{
    [Fact]
    public void Defaults_MatchTheDocumentation()
    {
        var redis = new RedisLockManagerOptions();

        AssertAcquireDefaults(new AcquireOptions());
        AssertManagerDefaults(new LockManagerOptions());
        AssertManagerDefaults(redis);
        Assert.Equal(TimeSpan.FromSeconds(1), redis.NodeTimeout);
        Assert.Equal(0.01, redis.ClockDriftFactor);
        Assert.True(redis.VersionCheck);
        Assert.Equal(0, redis.WaitForReplicas);
        Assert.Equal(TimeSpan.FromMilliseconds(100), redis.ReplicaTimeout);
    }

    private static void AssertManagerDefaults(LockManagerOptions options)
    {
        AssertAcquireDefaults(options.Defaults);
        Assert.Equal("lock:", options.KeyPrefix);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.HandoffGrace);
        Assert.False(options.AutoReleaseOnDispose);
        Assert.Null(options.MeterFactory);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        options.Validate();
    }

    private static void AssertAcquireDefaults(AcquireOptions options)
    {
        Assert.Equal(TimeSpan.FromSeconds(30), options.Ttl);
        Assert.Equal(Timeout.InfiniteTimeSpan, options.Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.RetryDelay);
        Assert.Equal(-1, options.MaxRetries);
        Assert.True(options.AutoExtend);
        Assert.Null(options.MaxHoldTime);
        Assert.Null(options.HolderLabel);
        options.Validate();
    }

    // Every rule of AcquireOptions, each with the setting it must name.
    public static TheoryData<string, Action<AcquireOptions>> InvalidAcquireSettings => new()
    {
        { nameof(AcquireOptions.Ttl), o => o.Ttl = TimeSpan.Zero },
        { nameof(AcquireOptions.Ttl), o => o.Ttl = TimeSpan.FromMilliseconds(-1) },
        { nameof(AcquireOptions.Ttl), o => o.Ttl = TimeSpan.FromMilliseconds(1) },
        { nameof(AcquireOptions.Ttl), o => o.Ttl = TimeSpan.FromDays(30) },
        { nameof(AcquireOptions.Ttl), o => o.Ttl = Timeout.InfiniteTimeSpan },
        { nameof(AcquireOptions.Timeout), o => o.Timeout = TimeSpan.FromSeconds(-5) },
        { nameof(AcquireOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromMilliseconds(-1) },
        { nameof(AcquireOptions.RetryDelay), o => o.RetryDelay = TimeSpan.Zero }, // a hot loop without pub/sub
        { nameof(AcquireOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromTicks(1) },
        { nameof(AcquireOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromDays(1) },
        { nameof(AcquireOptions.MaxRetries), o => o.MaxRetries = -2 },
        { nameof(AcquireOptions.HolderLabel), o => o.HolderLabel = string.Empty },
        { nameof(AcquireOptions.HolderLabel), o => o.HolderLabel = "  " },
        { nameof(AcquireOptions.HolderLabel), o => o.HolderLabel = "tab\there" },
        { nameof(AcquireOptions.HolderLabel), o => o.HolderLabel = new string('x', AcquireOptions.MaxHolderLabelLength + 1) },
        { nameof(AcquireOptions.MaxHoldTime), o => o.MaxHoldTime = TimeSpan.Zero },
        { nameof(AcquireOptions.MaxHoldTime), o => o.MaxHoldTime = TimeSpan.FromSeconds(-1) },
    };

    // Every rule of LockManagerOptions: its own settings, and those of its Defaults, named as nested.
    public static TheoryData<string, Action<LockManagerOptions>> InvalidManagerSettings
    {
        get
        {
            var data = new TheoryData<string, Action<LockManagerOptions>>
            {
                { nameof(LockManagerOptions.KeyPrefix), o => o.KeyPrefix = string.Empty },
                { nameof(LockManagerOptions.KeyPrefix), o => o.KeyPrefix = null! },
                { nameof(LockManagerOptions.KeyPrefix), o => o.KeyPrefix = "app{1}:" },
                { nameof(LockManagerOptions.KeyPrefix), o => o.KeyPrefix = new string('p', 257) },
                { nameof(LockManagerOptions.HandoffGrace), o => o.HandoffGrace = TimeSpan.Zero },
                { nameof(LockManagerOptions.HandoffGrace), o => o.HandoffGrace = TimeSpan.FromMilliseconds(-1) },
                { nameof(LockManagerOptions.HandoffGrace), o => o.HandoffGrace = LockManagerOptions.MinHandoffGrace - TimeSpan.FromTicks(1) },
                { nameof(LockManagerOptions.HandoffGrace), o => o.HandoffGrace = LockManagerOptions.MaxHandoffGrace + TimeSpan.FromTicks(1) },
                { nameof(LockManagerOptions.TimeProvider), o => o.TimeProvider = null! },
            };
            foreach (var row in InvalidAcquireSettings)
            {
                var set = (Action<AcquireOptions>)row[1];
                data.Add($"{nameof(LockManagerOptions.Defaults)}.{row[0]}", o => set(o.Defaults));
            }

            return data;
        }
    }

    // Every rule of RedisLockManagerOptions: those of every manager, and what only Redis needs.
    public static TheoryData<string, Action<RedisLockManagerOptions>> InvalidRedisSettings
    {
        get
        {
            var data = new TheoryData<string, Action<RedisLockManagerOptions>>
            {
                { nameof(RedisLockManagerOptions.NodeTimeout), o => o.NodeTimeout = TimeSpan.Zero },
                { nameof(RedisLockManagerOptions.NodeTimeout), o => o.NodeTimeout = TimeSpan.FromHours(1) },
                { nameof(RedisLockManagerOptions.WaitForReplicas), o => o.WaitForReplicas = -1 },
                { nameof(RedisLockManagerOptions.WaitForReplicas), o => o.WaitForReplicas = 101 },
                { nameof(RedisLockManagerOptions.ReplicaTimeout), o => o.ReplicaTimeout = TimeSpan.Zero },
                { nameof(RedisLockManagerOptions.ReplicaTimeout), o => o.ReplicaTimeout = TimeSpan.FromHours(1) },
                { nameof(RedisLockManagerOptions.ClockDriftFactor), o => o.ClockDriftFactor = -0.1 },
                { nameof(RedisLockManagerOptions.ClockDriftFactor), o => o.ClockDriftFactor = 0.9 },
                { nameof(RedisLockManagerOptions.ClockDriftFactor), o => o.ClockDriftFactor = double.NaN },
            };
            foreach (var row in InvalidManagerSettings)
            {
                var set = (Action<LockManagerOptions>)row[1];
                data.Add((string)row[0], o => set(o));
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(InvalidAcquireSettings))]
    public void AcquireOptions_InvalidValue_ThrowsArgumentExceptionNamingTheSetting(string option, Action<AcquireOptions> set) =>
        AssertRejected(option, Options(set), o => o.Validate());

    [Theory]
    [MemberData(nameof(InvalidManagerSettings))]
    public void LockManagerOptions_InvalidValue_ThrowsArgumentExceptionNamingTheSetting(string option, Action<LockManagerOptions> set) =>
        AssertRejected(option, Options(set), o => o.Validate());

    [Theory]
    [MemberData(nameof(InvalidRedisSettings))]
    public void RedisLockManagerOptions_InvalidValue_ThrowsArgumentExceptionNamingTheSetting(string option, Action<RedisLockManagerOptions> set) =>
        AssertRejected(option, Options(set), o => o.Validate());

    [Theory]
    [MemberData(nameof(InvalidManagerSettings))]
    public void InMemoryLockManager_InvalidOptions_ThrowsForOptionsNamingTheSetting(string option, Action<LockManagerOptions> set)
    {
        var options = Options(set);
        using var other = new InMemoryLockManager();

        var ex = Assert.Throws<ArgumentException>("options", () => new InMemoryLockManager(options));
        var shared = Assert.Throws<ArgumentException>("options", () => new InMemoryLockManager(other, options));

        Assert.StartsWith(option + " must ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ex.Message, shared.Message);
    }

    [Theory]
    [MemberData(nameof(InvalidRedisSettings))]
    public void RedisLockManager_InvalidOptions_ThrowsForOptionsBeforeTouchingRedis(string option, Action<RedisLockManagerOptions> set)
    {
        // The multiplexer throws on any use: the options must be refused before it is asked anything.
        var redis = UnusableMultiplexer.Create();
        var options = Options(set);

        var one = Assert.Throws<ArgumentException>("options", () => new RedisLockManager(redis, options));
        var many = Assert.Throws<ArgumentException>("options", () => new RedisLockManager([redis, UnusableMultiplexer.Create()], options));

        Assert.StartsWith(option + " must ", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, many.Message);
    }

    [Fact]
    public void LockManagerOptions_SeveralInvalidSettings_NamesEveryOneInOneMessage()
    {
        var options = new LockManagerOptions
        {
            KeyPrefix = "a{b}",
            HandoffGrace = TimeSpan.Zero,
            Defaults = { Ttl = TimeSpan.Zero, RetryDelay = TimeSpan.Zero },
        };
        string[] named = ["Defaults.Ttl", "Defaults.RetryDelay", "KeyPrefix", "HandoffGrace"];

        var validated = Assert.Throws<ArgumentException>(options.Validate);
        var built = Assert.Throws<ArgumentException>("options", () => new InMemoryLockManager(options));
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));

        Assert.Equal(named[0], validated.ParamName);
        Assert.All(named, option => Assert.Contains(option + " must ", validated.Message, StringComparison.Ordinal));
        Assert.Equal(Described(validated), Described(built));
        Assert.Equal(named, results.Select(r => Assert.Single(r.MemberNames)));
    }

    [Fact]
    public void RedisLockManagerOptions_SeveralInvalidSettings_NamesEveryOneInOneMessage()
    {
        var options = new RedisLockManagerOptions { KeyPrefix = "a{b}", NodeTimeout = TimeSpan.Zero, Defaults = { RetryDelay = TimeSpan.Zero } };

        var ex = Assert.Throws<ArgumentException>("options", () => new RedisLockManager(UnusableMultiplexer.Create(), options));

        Assert.Contains("Defaults.RetryDelay must ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("KeyPrefix must ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("NodeTimeout must ", ex.Message, StringComparison.Ordinal);
        Assert.Equal("Defaults.RetryDelay", Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }

    [Fact]
    public async Task Manager_OptionsChangedAfterItWasBuilt_KeepsItsCheckedCopy()
    {
        var options = new LockManagerOptions { KeyPrefix = "before:", Defaults = { Ttl = TimeSpan.FromSeconds(10), HolderLabel = "before" } };
        await using var locks = new InMemoryLockManager(options);

        // Too late (and the prefix invalid): the manager checked and kept a copy, of its Defaults too.
        options.KeyPrefix = "after{x}:";
        options.Defaults.Ttl = TimeSpan.FromSeconds(20);
        options.Defaults.HolderLabel = "after";
        await using var handle = await locks.AcquireAsync("r").WaitAsync(Eventually.Patience);

        Assert.StartsWith("before:", handle.Key, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(10), handle.Ttl);
        Assert.StartsWith("before|", handle.HolderId, StringComparison.Ordinal);
    }

    // Each setting at each end of its range, alone.
    public static TheoryData<string, Action<RedisLockManagerOptions>> BoundaryValues => new()
    {
        { "Defaults.Ttl", o => o.Defaults.Ttl = AcquireOptions.MinTtl },
        { "Defaults.Ttl", o => o.Defaults.Ttl = AcquireOptions.MaxTtl },
        { "Defaults.Timeout", o => o.Defaults.Timeout = TimeSpan.Zero },
        { "Defaults.Timeout", o => o.Defaults.Timeout = Timeout.InfiniteTimeSpan },
        { "Defaults.RetryDelay", o => o.Defaults.RetryDelay = AcquireOptions.MinRetryDelay },
        { "Defaults.RetryDelay", o => o.Defaults.RetryDelay = TimeSpan.FromHours(1) },
        { "Defaults.MaxRetries", o => o.Defaults.MaxRetries = 0 },
        { "Defaults.MaxRetries", o => o.Defaults.MaxRetries = -1 },
        { "Defaults.HolderLabel", o => o.Defaults.HolderLabel = new string('x', AcquireOptions.MaxHolderLabelLength) },
        { "Defaults.HolderLabel", o => o.Defaults.HolderLabel = null },
        { "Defaults.MaxHoldTime", o => o.Defaults.MaxHoldTime = TimeSpan.FromTicks(1) },
        { "Defaults.MaxHoldTime", o => o.Defaults.MaxHoldTime = TimeSpan.MaxValue },
        { "KeyPrefix", o => o.KeyPrefix = new string('p', 256) },
        { "HandoffGrace", o => o.HandoffGrace = LockManagerOptions.MinHandoffGrace },
        { "HandoffGrace", o => o.HandoffGrace = LockManagerOptions.MaxHandoffGrace },
        { "NodeTimeout", o => o.NodeTimeout = TimeSpan.FromTicks(1) },
        { "NodeTimeout", o => o.NodeTimeout = TimeSpan.FromMinutes(1) },
        { "WaitForReplicas", o => o.WaitForReplicas = 0 },
        { "WaitForReplicas", o => o.WaitForReplicas = 100 },
        { "ReplicaTimeout", o => o.ReplicaTimeout = TimeSpan.FromMilliseconds(1) },
        { "ReplicaTimeout", o => o.ReplicaTimeout = TimeSpan.FromMinutes(1) },
        { "ClockDriftFactor", o => o.ClockDriftFactor = 0 },
        { "ClockDriftFactor", o => o.ClockDriftFactor = 0.5 },
    };

    [Theory]
    [MemberData(nameof(BoundaryValues))]
    public void Validate_BoundaryValue_IsAccepted(string option, Action<RedisLockManagerOptions> set)
    {
        var options = Options(set);

        var refused = Record.Exception(options.Validate) ?? Record.Exception(() => new InMemoryLockManager(options).Dispose());
        Assert.True(refused is null, $"{option} at its bound was refused: {refused?.Message}");
    }

    /// <summary>
    /// The grace used to be RetryDelay clamped to 10 ms..1 s: now each is checked alone, so a grace
    /// at either bound goes with a RetryDelay at either bound, and setting one leaves the other.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 3_600_000)]
    [InlineData(10_000, 1)]
    [InlineData(10_000, 3_600_000)]
    public void HandoffGrace_IsCheckedAndKeptApartFromRetryDelay(int graceMs, int retryDelayMs)
    {
        var grace = TimeSpan.FromMilliseconds(graceMs);
        var retryDelay = TimeSpan.FromMilliseconds(retryDelayMs);

        var options = new LockManagerOptions { HandoffGrace = grace, Defaults = { RetryDelay = retryDelay } };
        options.Validate();
        var onlyRetryDelay = new LockManagerOptions { Defaults = { RetryDelay = retryDelay } };

        Assert.Equal(grace, options.HandoffGrace);
        Assert.Equal(retryDelay, options.Defaults.RetryDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(50), onlyRetryDelay.HandoffGrace);
        Assert.Equal(TimeSpan.FromMilliseconds(50), new LockManagerOptions { HandoffGrace = grace }.Defaults.RetryDelay);
    }

    /// <summary>
    /// <paramref name="validate"/> names the setting as the parameter and starts its message with its
    /// name and rule; DataAnnotations (what dependency injection reads) reports the same rule with
    /// the setting as the member.
    /// </summary>
    private static void AssertRejected<T>(string option, T options, Action<T> validate)
        where T : IValidatableObject
    {
        var ex = Assert.Throws<ArgumentException>(() => validate(options));
        var results = new List<ValidationResult>();

        Assert.Equal(option, ex.ParamName);
        Assert.StartsWith(option + " must ", ex.Message, StringComparison.Ordinal);
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        var result = Assert.Single(results);
        Assert.Equal(option, Assert.Single(result.MemberNames));
        Assert.Equal(ex.Message, new ArgumentException(result.ErrorMessage, option).Message);
    }

    /// <summary>The message without the parameter's name, which differs between Validate() and a constructor.</summary>
    private static string Described(ArgumentException ex) => ex.Message.Split(" (Parameter")[0];

    private static T Options<T>(Action<T> set)
        where T : new()
    {
        var options = new T();
        set(options);
        return options;
    }

    /// <summary>An <see cref="IConnectionMultiplexer"/> that throws when used: proves nothing reached it.</summary>
#pragma warning disable CA1852 // DispatchProxy derives from it at run time, so it cannot be sealed.
    internal class UnusableMultiplexer : DispatchProxy
#pragma warning restore CA1852
    {
        public static IConnectionMultiplexer Create() => DispatchProxy.Create<IConnectionMultiplexer, UnusableMultiplexer>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new InvalidOperationException($"The multiplexer was used: {targetMethod?.Name}.");
    }
}
