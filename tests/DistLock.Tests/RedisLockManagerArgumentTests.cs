namespace DistLock.Tests;

/// <summary>
/// Argument errors of <see cref="RedisLockManager.ConnectAsync(string, RedisLockManagerOptions?, Microsoft.Extensions.Logging.ILogger?, CancellationToken)"/>
/// and its Redlock overload are thrown by the call itself, before anything connects, never hidden
/// in a faulted task. Each call below would try to connect (and fail slowly) if it got that far.
/// </summary>
public sealed class RedisLockManagerArgumentTests
{
    public static TheoryData<string, Action> BadCalls => new()
    {
        { "configuration", () => _ = RedisLockManager.ConnectAsync((string)null!) },
        { "configuration", () => _ = RedisLockManager.ConnectAsync(string.Empty) },
        { "configuration", () => _ = RedisLockManager.ConnectAsync(" ") },
        { "options", () => _ = RedisLockManager.ConnectAsync("127.0.0.1:1", new RedisLockManagerOptions { Defaults = { RetryDelay = TimeSpan.Zero } }) },
        { "configurations", () => _ = RedisLockManager.ConnectAsync((IEnumerable<string>)null!) },
        { "configurations", () => _ = RedisLockManager.ConnectAsync(Array.Empty<string>()) },
        { "configurations", () => _ = RedisLockManager.ConnectAsync(["127.0.0.1:1", " "]) },
        { "configurations", () => _ = RedisLockManager.ConnectAsync(["127.0.0.1:1", null!]) },
        { "options", () => _ = RedisLockManager.ConnectAsync(["127.0.0.1:1", "127.0.0.1:2"], new RedisLockManagerOptions { Defaults = { RetryDelay = TimeSpan.Zero } }) },
        { "configuration", () => _ = RedisLockManager.ConnectAsync("password=x") },
        { "configurations", () => _ = RedisLockManager.ConnectAsync(["127.0.0.1:1", "127.0.0.1:1"]) },
        { "configuration", () => _ = RedisLockManager.ConnectAsync("127.0.0.1:1,connectTimeout=0") },
        { "configuration", () => _ = RedisLockManager.ConnectAsync("redis://127.0.0.1:1") },
        { "configurations", () => _ = RedisLockManager.ConnectAsync(["127.0.0.1:1", "rediss://user:pw@127.0.0.1:2"]) },
        { "configurations", () => _ = RedisLockManager.ConnectAsync(["127.0.0.1:1", "127.0.0.1:2,connectTimeout=-5"]) },
        { "configuration", () => _ = RedisLockManager.ConnectAsync("127.0.0.1:0") },
        { "configurations", () => _ = RedisLockManager.ConnectAsync(["127.0.0.1:1", "localhost:00,password=x"]) },
    };

    [Theory]
    [MemberData(nameof(BadCalls))]
    public void ConnectAsync_BadArgument_ThrowsFromTheCallItself(string parameter, Action call)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(call);

        Assert.Equal(parameter, ex.ParamName);
    }

    [Fact]
    public void ConnectAsync_BadOptions_NamesTheOption_InBothOverloads()
    {
        var options = new RedisLockManagerOptions { Defaults = { RetryDelay = TimeSpan.Zero } };

        var one = Assert.Throws<ArgumentException>("options", () => { _ = RedisLockManager.ConnectAsync("127.0.0.1:1", options); });
        var many = Assert.Throws<ArgumentException>("options", () => { _ = RedisLockManager.ConnectAsync(["127.0.0.1:1"], options); });

        Assert.StartsWith("Defaults.RetryDelay must ", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, many.Message);
    }

    /// <summary>Regression: the message named the client's parameter too ("(Parameter 'not') (Parameter 'configuration')").</summary>
    [Fact]
    public void ConnectAsync_StringTheClientRefuses_NamesOnlyTheCallersParameter()
    {
        var ex = Assert.Throws<ArgumentException>("configuration", () => { _ = RedisLockManager.ConnectAsync("this is ,,, not=valid"); });

        Assert.StartsWith("Invalid Redis configuration string: ", ex.Message, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(ex.Message, "Parameter '"));
    }

    [Fact]
    public void ConnectAsync_StringWithoutEndpoint_DoesNotRepeatItsPassword()
    {
        // Exception messages end up in logs.
        var ex = Assert.Throws<ArgumentException>("configuration", () => { _ = RedisLockManager.ConnectAsync("password=hunter2"); });

        Assert.Contains("names no endpoint", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Regression (a review, 2026-12-07): StackExchange.Redis reads "=x" as a host, so a typo was an
    /// outage on every call ("Name or service not known") instead of a configuration error.
    /// </summary>
    [Fact]
    public void ConnectAsync_AWordThatIsNeitherHostNorOption_IsRefusedBeforeConnecting()
    {
        var ex = Assert.Throws<ArgumentException>("configuration", () => { _ = RedisLockManager.ConnectAsync("127.0.0.1:6390,,=x"); });

        Assert.StartsWith("The Redis configuration names '=x' as a server, which is neither host:port nor key=value.", ex.Message, StringComparison.Ordinal);
    }
}
