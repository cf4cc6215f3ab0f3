using System.ComponentModel.DataAnnotations;
using System.Reflection;
using StackExchange.Redis;

namespace DistLock.Tests;

public sealed class LockOptionsTests
{
    [Fact]
    public void Defaults_MatchTheDocumentation()
    {
        var options = new LockOptions();

        Assert.Equal(TimeSpan.FromSeconds(30), options.Ttl);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.RetryDelay);
        Assert.Equal(-1, options.MaxRetries);
        Assert.Equal("lock:", options.KeyPrefix);
        Assert.Equal(Timeout.InfiniteTimeSpan, options.DefaultWaitTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.NodeTimeout);
        Assert.Equal(0.01, options.ClockDriftFactor);
        Assert.True(options.VersionCheck);
        Assert.False(options.AutoReleaseOnDispose);
        Assert.True(options.AutoExtend);
        Assert.Null(options.MaxHoldTime);
        Assert.Null(options.HolderLabel);
        Assert.Equal(0, options.WaitForReplicas);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ReplicaTimeout);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        options.Validate();
    }

    // Every rule of LockOptions, each with the option it must name.
    public static TheoryData<string, Action<LockOptions>> InvalidSettings => new()
    {
        { nameof(LockOptions.Ttl), o => o.Ttl = TimeSpan.Zero },
        { nameof(LockOptions.Ttl), o => o.Ttl = TimeSpan.FromMilliseconds(-1) },
        { nameof(LockOptions.Ttl), o => o.Ttl = TimeSpan.FromMilliseconds(1) },
        { nameof(LockOptions.Ttl), o => o.Ttl = TimeSpan.FromDays(30) },
        { nameof(LockOptions.Ttl), o => o.Ttl = Timeout.InfiniteTimeSpan },
        { nameof(LockOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromMilliseconds(-1) },
        { nameof(LockOptions.RetryDelay), o => o.RetryDelay = TimeSpan.Zero }, // a hot loop without pub/sub
        { nameof(LockOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromTicks(1) },
        { nameof(LockOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromDays(1) },
        { nameof(LockOptions.MaxRetries), o => o.MaxRetries = -2 },
        { nameof(LockOptions.HolderLabel), o => o.HolderLabel = string.Empty },
        { nameof(LockOptions.HolderLabel), o => o.HolderLabel = "  " },
        { nameof(LockOptions.HolderLabel), o => o.HolderLabel = "tab\there" },
        { nameof(LockOptions.HolderLabel), o => o.HolderLabel = new string('x', LockOptions.MaxHolderLabelLength + 1) },
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = string.Empty },
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = null! },
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = "app{1}:" },
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = new string('p', 257) },
        { nameof(LockOptions.DefaultWaitTimeout), o => o.DefaultWaitTimeout = TimeSpan.FromSeconds(-5) },
        { nameof(LockOptions.NodeTimeout), o => o.NodeTimeout = TimeSpan.Zero },
        { nameof(LockOptions.NodeTimeout), o => o.NodeTimeout = TimeSpan.FromHours(1) },
        { nameof(LockOptions.WaitForReplicas), o => o.WaitForReplicas = -1 },
        { nameof(LockOptions.WaitForReplicas), o => o.WaitForReplicas = 101 },
        { nameof(LockOptions.ReplicaTimeout), o => o.ReplicaTimeout = TimeSpan.Zero },
        { nameof(LockOptions.ReplicaTimeout), o => o.ReplicaTimeout = TimeSpan.FromHours(1) },
        { nameof(LockOptions.ClockDriftFactor), o => o.ClockDriftFactor = -0.1 },
        { nameof(LockOptions.ClockDriftFactor), o => o.ClockDriftFactor = 0.9 },
        { nameof(LockOptions.ClockDriftFactor), o => o.ClockDriftFactor = double.NaN },
        { nameof(LockOptions.MaxHoldTime), o => o.MaxHoldTime = TimeSpan.Zero },
        { nameof(LockOptions.MaxHoldTime), o => o.MaxHoldTime = TimeSpan.FromSeconds(-1) },
        { nameof(LockOptions.TimeProvider), o => o.TimeProvider = null! },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Validate_InvalidValue_ThrowsArgumentExceptionNamingTheOption(string option, Action<LockOptions> set)
    {
        var options = Invalid(set);

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(option, ex.ParamName);
        Assert.StartsWith(option + " must ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void InMemoryLockManager_InvalidOptions_ThrowsForOptionsNamingTheOption(string option, Action<LockOptions> set)
    {
        var options = Invalid(set);
        using var other = new InMemoryLockManager();

        var ex = Assert.Throws<ArgumentException>("options", () => new InMemoryLockManager(options));
        var shared = Assert.Throws<ArgumentException>("options", () => new InMemoryLockManager(other, options));

        Assert.StartsWith(option + " must ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ex.Message, shared.Message);
    }

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void RedisLockManager_InvalidOptions_ThrowsForOptionsBeforeTouchingRedis(string option, Action<LockOptions> set)
    {
        // The multiplexer throws on any use: the options must be refused before it is asked anything.
        var redis = UnusableMultiplexer.Create();
        var options = Invalid(set);

        var one = Assert.Throws<ArgumentException>("options", () => new RedisLockManager(redis, options));
        var many = Assert.Throws<ArgumentException>("options", () => new RedisLockManager([redis, UnusableMultiplexer.Create()], options));

        Assert.StartsWith(option + " must ", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, many.Message);
    }

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void ValidatableObject_InvalidValue_ReportsTheSameRuleWithTheOptionAsMember(string option, Action<LockOptions> set)
    {
        // What dependency injection (and ValidateDataAnnotations) reads: the same rule, the option as the member.
        var options = Invalid(set);
        var results = new List<ValidationResult>();

        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));

        var result = Assert.Single(results);
        Assert.Equal(option, Assert.Single(result.MemberNames));
        Assert.Equal(Assert.Throws<ArgumentException>(options.Validate).Message, new ArgumentException(result.ErrorMessage, option).Message);
    }

    [Fact]
    public void Validate_SeveralInvalidOptions_NamesEveryOne()
    {
        var options = new LockOptions { RetryDelay = TimeSpan.Zero, KeyPrefix = "a{b}", NodeTimeout = TimeSpan.Zero };

        var ex = Assert.Throws<ArgumentException>("options", () => new InMemoryLockManager(options));

        Assert.Contains("RetryDelay must ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("KeyPrefix must ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("NodeTimeout must ", ex.Message, StringComparison.Ordinal);
        Assert.Equal("RetryDelay", Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }

    [Fact]
    public async Task Manager_OptionsChangedAfterItWasBuilt_KeepsItsCheckedCopy()
    {
        var options = new LockOptions { KeyPrefix = "before:" };
        await using var locks = new InMemoryLockManager(options);

        options.KeyPrefix = "after{x}:"; // invalid, and too late: the manager checked and kept a copy
        await using var handle = await locks.AcquireAsync("r");

        Assert.StartsWith("before:", handle.Key, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BoundaryValues_AreAccepted()
    {
        var low = new LockOptions
        {
            Ttl = LockOptions.MinTtl,
            RetryDelay = LockOptions.MinRetryDelay,
            MaxRetries = 0,
            HolderLabel = new string('x', LockOptions.MaxHolderLabelLength),
            KeyPrefix = new string('p', 256),
            DefaultWaitTimeout = TimeSpan.Zero,
            NodeTimeout = TimeSpan.FromTicks(1),
            WaitForReplicas = 0,
            ReplicaTimeout = TimeSpan.FromMilliseconds(1),
            ClockDriftFactor = 0,
            MaxHoldTime = TimeSpan.FromTicks(1),
        };
        var high = new LockOptions
        {
            Ttl = LockOptions.MaxTtl,
            RetryDelay = TimeSpan.FromHours(1),
            MaxRetries = -1,
            HolderLabel = null,
            DefaultWaitTimeout = Timeout.InfiniteTimeSpan,
            NodeTimeout = TimeSpan.FromMinutes(1),
            WaitForReplicas = 100,
            ReplicaTimeout = TimeSpan.FromMinutes(1),
            ClockDriftFactor = 0.5,
            MaxHoldTime = TimeSpan.MaxValue,
        };

        low.Validate();
        high.Validate();
        using var fromLow = new InMemoryLockManager(low);
        using var fromHigh = new InMemoryLockManager(high);
    }

    private static LockOptions Invalid(Action<LockOptions> set)
    {
        var options = new LockOptions();
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
