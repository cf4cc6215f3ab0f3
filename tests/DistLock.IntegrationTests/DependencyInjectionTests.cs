using System.Diagnostics.Metrics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

[Collection(SingleNodeCollection.Name)]
public sealed class DependencyInjectionTests(SingleNodeFixture nodes)
{
    [Fact]
    public async Task AddDistLock_FromConfiguration_InjectsAWorkingManager()
    {
        using var host = Build(new Dictionary<string, string?>
        {
            ["DistLock:Redis:0"] = nodes.Servers[0].Endpoint,
            ["DistLock:Defaults:Ttl"] = "5s",
            ["DistLock:KeyPrefix"] = "di:",
        });
        await host.StartAsync();

        var locks = host.Services.GetRequiredService<ILockManager>();
        await using var handle = await locks.AcquireAsync("di-" + Guid.NewGuid().ToString("N"));

        Assert.Equal(1, host.Services.GetRequiredService<RedisLockManager>().NodeCount);
        Assert.Equal(TimeSpan.FromSeconds(5), handle.Ttl);
        Assert.StartsWith("di:{", handle.Key, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddDistLock_BadConfiguration_FailsAtStartUp_NamingEachBadKey()
    {
        using var host = Build(new Dictionary<string, string?>
        {
            ["DistLock:Redis:0"] = nodes.Servers[0].Endpoint + ",nonsense=1",
            ["DistLock:Defaults:Ttl"] = "00:00:00.001",
            ["DistLock:KeyPrefix"] = "bad{prefix",
            ["DistLock:Defaults:RetryDelay"] = "00:00:00",
            ["DistLock:HandoffGrace"] = "20s",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Defaults:Ttl:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:KeyPrefix:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:0:", StringComparison.Ordinal));
        Assert.Contains("DistLock:HandoffGrace: HandoffGrace must be between 1 ms and 10 s.", error.Failures);

        // The library's own rule, in its own words, said about the key.
        var rule = Assert.Throws<ArgumentException>(new RedisLockManagerOptions { Defaults = { RetryDelay = TimeSpan.Zero } }.Validate).Message.Split(" (Parameter")[0];
        Assert.Contains($"DistLock:Defaults:RetryDelay: {rule}", error.Failures);
    }

    [Fact]
    public async Task AddDistLock_RedisStringThatConnectAsyncRefuses_FailsAtStartUp()
    {
        // ConnectAsync refuses both before connecting; a host let them through, and a configuration
        // error then showed up as an outage on every lock call.
        using var host = Build(new Dictionary<string, string?>
        {
            ["DistLock:Redis:0"] = "password=secret",
            ["DistLock:Redis:1"] = nodes.Servers[0].Endpoint + ",connectTimeout=0",
            ["DistLock:Redis:2"] = "redis://127.0.0.1:6390",
            ["DistLock:Redis:3"] = "127.0.0.1:0,password=secret",
            ["DistLock:Redis:4"] = "bad,,=x,password=secret",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:0: names no endpoint", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:1: connectTimeout must be a positive number", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:2: a Redis URL is not", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:3: names port 0 ('127.0.0.1:0')", StringComparison.Ordinal));
        Assert.Contains("DistLock:Redis:4: names '=x' as a server, which is neither host:port nor key=value.", error.Failures);
        Assert.DoesNotContain(error.Failures, f => f.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddDistLock_InvalidOptionSetInCode_FailsAtStartUp_NamingItsKey()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDistLock(settings =>
        {
            settings.Redis.Add("localhost:1");
            settings.Defaults.RetryDelay = TimeSpan.Zero;
            settings.WaitForReplicas = -1;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(2, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Defaults:RetryDelay: Defaults.RetryDelay must be between 1 ms and 1 hour", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:WaitForReplicas: WaitForReplicas must be from 0 to 100", StringComparison.Ordinal));
    }

    [Fact]
    public void AddDistLock_Configuration_BindsEveryKeyByItsPropertyName()
    {
        using var host = Build(new Dictionary<string, string?>
        {
            ["DistLock:Redis"] = "localhost:1",
            ["DistLock:KeyPrefix"] = "orders:",
            ["DistLock:handoffGrace"] = "20ms",
            ["DistLock:AutoReleaseOnDispose"] = "true",
            ["DistLock:NodeTimeout"] = "2s",
            ["DistLock:WaitForReplicas"] = "1",
            ["DistLock:ReplicaTimeout"] = "250ms",
            ["DistLock:ClockDriftFactor"] = "0.02",
            ["DistLock:VersionCheck"] = "false",
            ["DistLock:Defaults:ttl"] = "1m30s",
            ["DistLock:Defaults:Timeout"] = "inf",
            ["DistLock:Defaults:RetryDelay"] = "20ms",
            ["DistLock:Defaults:MaxRetries"] = "3",
            ["DistLock:Defaults:AutoExtend"] = "false",
            ["DistLock:Defaults:MaxHoldTime"] = "1h",
            ["DistLock:Defaults:HolderLabel"] = "web-3",
        });

        var settings = host.Services.GetRequiredService<IOptions<DistLockSettings>>().Value;

        Assert.Equal(["localhost:1"], settings.Redis);
        Assert.Equal("orders:", settings.KeyPrefix);
        Assert.Equal(TimeSpan.FromMilliseconds(20), settings.HandoffGrace);
        Assert.True(settings.AutoReleaseOnDispose);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.NodeTimeout);
        Assert.Equal(1, settings.WaitForReplicas);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.ReplicaTimeout);
        Assert.Equal(0.02, settings.ClockDriftFactor);
        Assert.False(settings.VersionCheck);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.Defaults.Ttl);
        Assert.Equal(Timeout.InfiniteTimeSpan, settings.Defaults.Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(20), settings.Defaults.RetryDelay);
        Assert.Equal(3, settings.Defaults.MaxRetries);
        Assert.False(settings.Defaults.AutoExtend);
        Assert.Equal(TimeSpan.FromHours(1), settings.Defaults.MaxHoldTime);
        Assert.Equal("web-3", settings.Defaults.HolderLabel);
        Assert.Same(host.Services.GetRequiredService<IMeterFactory>(), settings.MeterFactory);
    }

    /// <summary>Regression: a name the election refuses passed registration, and the hosted service's failure at start-up stopped the host.</summary>
    [Theory]
    [InlineData(1100)]
    [InlineData(-1)]
    public void AddLeaderService_NameTheElectionWouldRefuse_IsRefusedAtRegistration(int length)
    {
        var name = length > 0 ? new string('n', length) : "a\uD800";
        var services = new ServiceCollection();

        var service = Assert.Throws<ArgumentException>("name", () => services.AddLeaderService(name, (_, _, _) => Task.CompletedTask));
        var check = Assert.Throws<ArgumentException>("name", () => services.AddHealthChecks().AddLeaderService(name));

        Assert.Equal(Assert.Throws<ArgumentException>("name", () => new InMemoryLockManager().CreateElection(name)).Message, service.Message);
        Assert.Equal(service.Message, check.Message);
        Assert.DoesNotContain(services, d => d.IsKeyedService && Equals(d.ServiceKey, name));
    }

    [Fact]
    public void AddDistLock_RedisAsAList_KeepsItsOrder()
    {
        var settings = Bound(new Dictionary<string, string?>
        {
            ["DistLock:Redis:1"] = "b:6379",
            ["DistLock:Redis:0"] = "a:6379",
            ["DistLock:Redis:2"] = "c:6379",
        });

        Assert.Equal(["a:6379", "b:6379", "c:6379"], settings.Redis);
    }

    [Fact]
    public async Task AddDistLock_OptionsThatAreNotSettings_AreUnknownKeys()
    {
        // The clock and the meter factory are objects, set in code; configuration cannot name them.
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", ["DistLock:TimeProvider"] = "system" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("DistLock:TimeProvider: unknown setting; known settings: ", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("MeterFactory", failure, StringComparison.Ordinal);
        Assert.Contains("Defaults:HolderLabel, Defaults:MaxHoldTime", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDistLock_DefaultTtlTooShortForTheNodeTimeout_FailsAtStartUp()
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", ["DistLock:NodeTimeout"] = "30s" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith("DistLock:Defaults:Ttl: 30s is too short to be extended in time", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void AddDistLock_ShortTtlWithoutAutoExtend_IsAccepted()
    {
        var settings = Bound(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", ["DistLock:Defaults:Ttl"] = "10ms", ["DistLock:Defaults:AutoExtend"] = "false" });

        Assert.Equal(TimeSpan.FromMilliseconds(10), settings.Defaults.Ttl);
    }

    [Fact]
    public async Task AddDistLock_NoRedisAndNoConnection_FailsAtStartUp()
    {
        using var host = Build(new Dictionary<string, string?>());

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddDistLock_WithoutRedisSettings_ReusesTheRegisteredConnection()
    {
        await using var connection = await nodes.Servers[0].ConnectAsync();
        using var host = Build(new Dictionary<string, string?>(), services => services.AddSingleton<IConnectionMultiplexer>(connection));
        await host.StartAsync();

        var locks = host.Services.GetRequiredService<ILockManager>();
        await using var handle = await locks.AcquireAsync("reused-" + Guid.NewGuid().ToString("N"));

        Assert.True(await connection.GetDatabase().KeyExistsAsync(handle.Key));
        await host.StopAsync();
    }

    [Fact]
    public async Task HealthCheck_HealthyThenDegradedThenUnhealthy_AsNodesGoDown()
    {
        var servers = await RedisServer.StartManyAsync(3);
        try
        {
            var settings = new Dictionary<string, string?> { ["DistLock:NodeTimeout"] = "00:00:00.500" };
            for (var i = 0; i < servers.Length; i++)
            {
                settings[$"DistLock:Redis:{i}"] = servers[i].Endpoint + ",abortConnect=false,connectTimeout=3000"; // 500 ms lost connects on a loaded CI machine
            }

            using var host = Build(settings, services => services.AddHealthChecks().AddDistLock());
            await host.StartAsync();
            var health = host.Services.GetRequiredService<HealthCheckService>();

            // The connection is made in the background once the host starts: healthy once it is up.
            Assert.True(
                await Eventually.TrueWithinAsync(TimeSpan.FromSeconds(10), async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy),
                "never healthy with all three nodes up");
            servers[0].Kill();
            Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync()).Status);
            servers[1].Kill();
            var report = await health.CheckHealthAsync();
            Assert.Equal(HealthStatus.Unhealthy, report.Status);
            Assert.Contains("1 of 3", report.Entries["distlock"].Description, StringComparison.Ordinal);
            await host.StopAsync();
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AddDistLock_RedisDownAtStartUp_StartsAndThrowsOutage_ThenRecoversWhenRedisIsBack()
    {
        // Regression: the factory connected synchronously on first resolve, so a request during an
        // outage got an unhandled RedisConnectionException (HTTP 500) and the health check threw.
        await using var server = await RedisServer.StartAsync();
        server.Kill();
        using var host = Build(
            new Dictionary<string, string?> { ["DistLock:Redis"] = server.Endpoint + ",connectTimeout=1000", ["DistLock:NodeTimeout"] = "500ms" },
            services => services.AddHealthChecks().AddDistLock());
        await host.StartAsync();

        var locks = host.Services.GetRequiredService<ILockManager>();
        var outage = await Assert.ThrowsAsync<LockBackendException>(() => locks.TryAcquireAsync("di-down"));
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains(server.Endpoint, report.Entries["distlock"].Description, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", outage.Message, StringComparison.Ordinal);

        await server.RestartAsync();
        var handle = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(20), () => locks.TryAcquireAsync("di-down"));
        await handle.ReleaseAsync();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddDistLock_RedisAsOneConfigurationString_IsAccepted()
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = nodes.Servers[0].Endpoint + ",connectTimeout=3000" });
        await host.StartAsync();

        var locks = host.Services.GetRequiredService<ILockManager>();
        await using var handle = await locks.AcquireAsync("di-string-" + Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(5));

        Assert.Equal(LockState.Held, handle.State);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddDistLock_MisspeltKey_FailsAtStartUp_NamingItAndWhatWasMeant()
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis:0"] = nodes.Servers[0].Endpoint, ["DistLock:Defaults:Ttll"] = "10s" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.Equal("DistLock:Defaults:Ttll: unknown setting; did you mean Defaults:Ttl?", failure);
    }

    [Theory]
    [InlineData("Ttl", "Defaults:Ttl")]
    [InlineData("DefaultWaitTimeout", "Defaults:Timeout")]
    [InlineData("holderLabel", "Defaults:HolderLabel")]
    [InlineData("KeyPrefx", "KeyPrefix")]
    [InlineData("Defaults:NodeTimeout", "NodeTimeout")]
    public async Task AddDistLock_Rc1OrMisspeltTopLevelKey_FailsAtStartUp_SuggestingTheKey(string key, string meant)
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", [$"DistLock:{key}"] = "10s" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal($"DistLock:{key}: unknown setting; did you mean {meant}?", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task AddDistLock_SeveralUnknownKeys_FailsAtStartUp_NamingEach()
    {
        using var host = Build(new Dictionary<string, string?>
        {
            ["DistLock:Redis"] = "localhost:1",
            ["DistLock:Nonsense"] = "1",
            ["DistLock:Defaults:Colour"] = "red",
            ["DistLock:Defaults:Ttl"] = "30",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(2, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Nonsense: unknown setting; known settings: AutoReleaseOnDispose, ", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Defaults:Colour: unknown setting; known settings: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("10s", 10_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("00:00:30", 30_000)]
    [InlineData("1.00:00:00.250", 86_400_250)]
    public void AddDistLock_Durations_TakeTheToolSyntaxAndTimeSpans(string text, int milliseconds)
    {
        var settings = Bound(new Dictionary<string, string?>
        {
            ["DistLock:Redis"] = "localhost:1",
            ["DistLock:Defaults:MaxHoldTime"] = text,
            ["DistLock:Defaults:Timeout"] = text,
        });

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), settings.Defaults.MaxHoldTime);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), settings.Defaults.Timeout);
    }

    [Fact]
    public void AddDistLock_DurationSyntax_DoesNotChangeHowTheApplicationsOtherTimeSpansRead()
    {
        // The converter is registered for the whole process (TypeDescriptor has no narrower scope):
        // it must read DistLock's syntax only while DistLock binds its own section.
        Assert.Equal(TimeSpan.FromSeconds(10), Bound(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", ["DistLock:Defaults:Ttl"] = "10s" }).Defaults.Ttl);
        var other = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Days"] = "30", ["Clock"] = "00:01:30", ["Units"] = "10s" })
            .Build();

        Assert.Equal(TimeSpan.FromDays(30), other.GetValue<TimeSpan>("Days"));
        Assert.Equal(TimeSpan.FromSeconds(90), other.GetValue<TimeSpan>("Clock"));
        Assert.Throws<InvalidOperationException>(() => other.GetValue<TimeSpan>("Units"));
    }

    [Theory]
    [InlineData("10ms", "DistLock:Defaults:Ttl: 10ms is too short to be extended in time", "the lowest that works is 1.6s")]
    [InlineData("30", "Failed to convert configuration value '30' at 'DistLock:Defaults:Ttl'", "'30' needs a unit: 30s")]
    [InlineData("ten seconds", "Failed to convert configuration value 'ten seconds' at 'DistLock:Defaults:Ttl'", "'ten seconds' is not a duration")]
    public async Task AddDistLock_UnworkableTtl_FailsAtStartUp_NamingTheKeyAndWhy(string ttl, string start, string more)
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", ["DistLock:Defaults:Ttl"] = ttl });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(start, failure, StringComparison.Ordinal);
        Assert.Contains(more, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DistLock:WaitForReplicas", "many")]
    [InlineData("DistLock:VersionCheck", "maybe")]
    [InlineData("DistLock:Defaults", "30s")]
    public async Task AddDistLock_UnreadableValue_FailsAtStartUp_NamingTheKey(string key, string value)
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains($"'{key}'", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDistLock_RootConfiguration_ReadsItsDistLockSection()
    {
        // Regression: builder.Configuration itself was bound as if it were the section, so start-up
        // failed with "DistLock:Redis: give at least one Redis configuration string" though it was set.
        using var host = Build(
            new Dictionary<string, string?>
            {
                ["DistLock:Redis"] = nodes.Servers[0].Endpoint,
                ["DistLock:KeyPrefix"] = "root:",
                ["Logging:LogLevel:Default"] = "Warning",
            },
            root: true);
        await host.StartAsync();

        var locks = host.Services.GetRequiredService<ILockManager>();
        await using var handle = await locks.AcquireAsync("di-root-" + Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(5));

        Assert.StartsWith("root:{", handle.Key, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddDistLock_RootConfiguration_MisspeltKeyInItsSection_FailsNamingIt()
    {
        // Regression: the typo was hidden behind a message saying DistLock:Redis was missing.
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = "127.0.0.1:7301", ["DistLock:Defaults:Ttll"] = "30s" }, root: true);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.Equal("DistLock:Defaults:Ttll: unknown setting; did you mean Defaults:Ttl?", failure);
    }

    [Fact]
    public async Task AddDistLock_RootConfigurationWithoutDistLockSettings_SaysWhereTheyGo()
    {
        using var host = Build(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" }, root: true);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("DistLock:Redis: give at least one Redis configuration string", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s10m", "'30s10m' is not a duration: units go from the largest to the smallest (d, h, m, s, ms), each at most once; did you mean 10m30s?")]
    [InlineData("1h1h", "'1h1h' is not a duration: units go from the largest to the smallest (d, h, m, s, ms), each at most once; did you mean 2h?")]
    public async Task AddDistLock_DurationUnitsOutOfOrderOrRepeated_FailAtStartUp_NamingTheKey(string ttl, string expected)
    {
        // Regression: "30s10m" was read as 10m30s.
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = "localhost:1", ["DistLock:Defaults:Ttl"] = ttl });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.Contains("'DistLock:Defaults:Ttl'", failure, StringComparison.Ordinal);
        Assert.EndsWith(expected, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResolvingRedisLockManager_RedisDown_TakesAtMostTheConnectTimeout(bool paused)
    {
        // Regression: with Redis down, resolving the concrete manager took 7.1 s with the default 5 s
        // connect timeout, though the README promises at most the connect timeout.
        await using var server = await RedisServer.StartAsync();
        if (paused)
        {
            await server.PauseAsync(); // accepts the connection, never answers
        }
        else
        {
            server.Kill(); // refuses
        }

        try
        {
            using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = server.Endpoint + ",connectTimeout=2000" });
            await host.StartAsync();
            var timer = System.Diagnostics.Stopwatch.StartNew();

            var manager = host.Services.GetRequiredService<RedisLockManager>();

            Assert.True(timer.Elapsed < TimeSpan.FromSeconds(4.5), $"took {timer.Elapsed.TotalSeconds:0.00} s"); // 2 s and a margin for a loaded machine; was 6 s
            await Assert.ThrowsAsync<LockBackendException>(() => manager.TryAcquireAsync("di-down-concrete"));
            await host.StopAsync();
        }
        finally
        {
            server.Resume();
        }
    }

    [Fact]
    public async Task InjectedManager_InspectsListsAndForceReleases_ThroughTheConnection()
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = nodes.Servers[0].Endpoint, ["DistLock:KeyPrefix"] = "di-admin:" });
        await host.StartAsync();
        var locks = host.Services.GetRequiredService<ILockManager>();
        var resource = "admin-" + Guid.NewGuid().ToString("N");
        var handle = await locks.AcquireAsync(resource, TimeSpan.FromSeconds(5));
        var permit = await locks.AcquireSemaphoreAsync(resource + "-permits", 2, TimeSpan.FromSeconds(5));

        var info = await locks.InspectAsync(resource);
        var listed = await locks.ListAsync(resource).ToListAsync();
        var semaphore = await locks.InspectSemaphoreAsync(resource + "-permits");

        Assert.Equal(handle.HolderId, info.HolderId);
        Assert.Equal(handle.HolderId, Assert.Single(listed).HolderId);
        Assert.Equal(permit.HolderId, Assert.Single(semaphore.Holders).HolderId);
        Assert.True(await locks.ForceReleaseAsync(resource));
        Assert.Equal(1, await locks.ForceReleaseSemaphoreAsync(resource + "-permits"));
        Assert.Null((await locks.InspectAsync(resource)).HolderId);
        Assert.Empty((await locks.InspectSemaphoreAsync(resource + "-permits")).Holders);
        await host.StopAsync();
    }

    [Fact]
    public async Task InjectedManager_RedisDown_InspectAndListThrowTheOutage()
    {
        await using var server = await RedisServer.StartAsync();
        server.Kill();
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis"] = server.Endpoint + ",connectTimeout=1000", ["DistLock:NodeTimeout"] = "500ms" });
        await host.StartAsync();
        var locks = host.Services.GetRequiredService<ILockManager>();

        await Assert.ThrowsAsync<LockBackendException>(() => locks.InspectAsync("di-down"));
        await Assert.ThrowsAsync<LockBackendException>(async () => await locks.ListAsync().ToListAsync());
        await host.StopAsync();
    }

    [Fact]
    public async Task AddDistLock_RedisWrittenAsAnObject_FailsAtStartUp_NamingItsKeys()
    {
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis:Host"] = "127.0.0.1", ["DistLock:Redis:Port"] = "6379" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:Host: unknown setting", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:Port: unknown setting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddDistLock_OneEndpointTwice_FailsAtStartUp_NamingBothKeys()
    {
        var endpoint = nodes.Servers[0].Endpoint;
        using var host = Build(new Dictionary<string, string?> { ["DistLock:Redis:0"] = endpoint, ["DistLock:Redis:1"] = "localhost:1", ["DistLock:Redis:2"] = endpoint });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith("DistLock:Redis:2: names an endpoint of DistLock:Redis:0;", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDistLock_OneServerUnderTwoNames_LockCallsThrowTheOutageType_AndTheHostStopsCleanly()
    {
        var port = nodes.Servers[0].Endpoint.Split(':')[1];
        var host = Build(new Dictionary<string, string?> { ["DistLock:Redis:0"] = $"127.0.0.1:{port}", ["DistLock:Redis:1"] = $"localhost:{port}" });
        await host.StartAsync();
        var locks = host.Services.GetRequiredService<ILockManager>();

        var error = await Assert.ThrowsAsync<LockBackendException>(() => locks.TryAcquireAsync("di-same-server"));

        Assert.Contains("same server", error.Message, StringComparison.OrdinalIgnoreCase);
        await host.StopAsync();
        host.Dispose(); // threw an unhandled ArgumentException from the connection's dispose before
    }

    /// <summary>The settings <paramref name="settings"/> bind to, read as the manager reads them.</summary>
    private static DistLockSettings Bound(Dictionary<string, string?> settings)
    {
        using var host = Build(settings);
        return host.Services.GetRequiredService<IOptions<DistLockSettings>>().Value;
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection>? more = null, bool root = false)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDistLock(root ? builder.Configuration : builder.Configuration.GetSection(DistLockSettings.SectionName));
        more?.Invoke(builder.Services);
        return builder.Build();
    }
}
