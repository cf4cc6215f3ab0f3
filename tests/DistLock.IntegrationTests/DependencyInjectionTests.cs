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
            ["DistLock:Ttl"] = "00:00:05",
            ["DistLock:KeyPrefix"] = "di:",
        });
        await host.StartAsync();

        var locks = host.Services.GetRequiredService<ILockManager>();
        await using var handle = await locks.AcquireAsync("di-" + Guid.NewGuid().ToString("N"));

        Assert.Same(host.Services.GetRequiredService<RedisLockManager>(), locks);
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
            ["DistLock:Ttl"] = "00:00:00.001",
            ["DistLock:KeyPrefix"] = "bad{prefix",
            ["DistLock:RetryDelay"] = "00:00:00",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Ttl:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:KeyPrefix:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:RetryDelay:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("DistLock:Redis:0:", StringComparison.Ordinal));
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

            Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
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

    private static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection>? more = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDistLock(builder.Configuration.GetSection(DistLockSettings.SectionName));
        more?.Invoke(builder.Services);
        return builder.Build();
    }
}
