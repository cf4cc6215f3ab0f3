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
        Assert.Equal(0, options.WaitForReplicas);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ReplicaTimeout);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

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
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = string.Empty },
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = null! },
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = "app{1}:" },
        { nameof(LockOptions.KeyPrefix), o => o.KeyPrefix = new string('p', 257) },
        { nameof(LockOptions.DefaultWaitTimeout), o => o.DefaultWaitTimeout = TimeSpan.FromSeconds(-5) },
        { nameof(LockOptions.NodeTimeout), o => o.NodeTimeout = TimeSpan.Zero },
        { nameof(LockOptions.NodeTimeout), o => o.NodeTimeout = TimeSpan.FromHours(1) },
        { nameof(LockOptions.ClockDriftFactor), o => o.ClockDriftFactor = -0.1 },
        { nameof(LockOptions.ClockDriftFactor), o => o.ClockDriftFactor = 0.9 },
        { nameof(LockOptions.ClockDriftFactor), o => o.ClockDriftFactor = double.NaN },
        { nameof(LockOptions.TimeProvider), o => o.TimeProvider = null! },
        { nameof(LockOptions.WaitForReplicas), o => o.WaitForReplicas = -1 },
        { nameof(LockOptions.WaitForReplicas), o => o.WaitForReplicas = 101 },
        { nameof(LockOptions.ReplicaTimeout), o => o.ReplicaTimeout = TimeSpan.Zero },
        { nameof(LockOptions.ReplicaTimeout), o => o.ReplicaTimeout = TimeSpan.FromHours(1) },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Setter_InvalidValue_ThrowsArgumentExceptionNamingTheOption(string option, Action<LockOptions> set)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => set(new LockOptions()));

        Assert.Equal(option, ex.ParamName);
    }

    [Fact]
    public void Setters_BoundaryValues_AreAccepted()
    {
        var options = new LockOptions
        {
            Ttl = LockOptions.MinTtl,
            RetryDelay = TimeSpan.FromMilliseconds(1),
            MaxRetries = 0,
            DefaultWaitTimeout = TimeSpan.Zero,
            ClockDriftFactor = 0,
        };

        options.Ttl = LockOptions.MaxTtl;
        options.MaxRetries = -1;
        options.DefaultWaitTimeout = Timeout.InfiniteTimeSpan;

        Assert.Equal(LockOptions.MaxTtl, options.Ttl);
    }
}
