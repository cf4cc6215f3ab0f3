using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DistLock;

/// <summary>Registers DistLock in a service collection.</summary>
public static class DistLockServiceCollectionExtensions
{
    /// <summary>
    /// Registers DistLock: <see cref="ILockManager"/> (inject this), a singleton <see cref="RedisLockManager"/>,
    /// and a hosted service that starts connecting when the host starts, configured from
    /// <paramref name="configuration"/> (<c>builder.Configuration.GetSection("DistLock")</c>, or
    /// <c>builder.Configuration</c> itself, whose "DistLock" section is then read) and then
    /// <paramref name="configure"/>. The section's keys are <see cref="DistLockSettings"/>' property
    /// names (<c>"Defaults": { "Ttl": "30s" }</c>), durations written <c>10s</c>, <c>1m30s</c> or
    /// <c>hh:mm:ss</c>. Settings are validated when the host starts: an unknown key, an unreadable
    /// value or an invalid setting fails start-up with a message naming the key.
    /// Redis is connected in the background and never given up on (<c>AbortOnConnectFail=false</c>):
    /// resolving <see cref="ILockManager"/> never touches the network, a lock call during an outage
    /// throws <see cref="LockBackendException"/>, and the application recovers when Redis is back.
    /// Resolving <see cref="RedisLockManager"/> itself waits for the first connect attempt (one
    /// attempt, so at most the connect timeout, 5 s by default; <c>connectRetry</c> times it when the
    /// configuration string sets <c>connectRetry</c>) but does not throw for an outage either. With no Redis
    /// configured, an <see cref="IConnectionMultiplexer"/> already registered is used. The manager
    /// logs through the host's logging and measures through its <see cref="IMeterFactory"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section with DistLock's settings, or a configuration
    /// with a "DistLock" section; null for none.</param>
    /// <param name="configure">Changes applied after the configuration; null for none.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDistLock(
        this IServiceCollection services, IConfiguration? configuration = null, Action<DistLockSettings>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var section = configuration is null ? null : DistLockSettingsBinding.Locate(configuration);
        var builder = services.AddOptions<DistLockSettings>();
        if (section is not null)
        {
            builder.Configure(settings => DistLockSettingsBinding.Bind(section, settings));
        }

        if (configure is not null)
        {
            builder.Configure(configure);
        }

        // The host's meters, unless the application chose a factory itself.
        builder.PostConfigure<IServiceProvider>((settings, provider) => settings.MeterFactory ??= provider.GetService<IMeterFactory>());
        builder.ValidateOnStart();
        services.AddSingleton<IValidateOptions<DistLockSettings>>(provider =>
            new DistLockSettingsValidator(section?.Path ?? DistLockSettings.SectionName, provider.GetService<IConnectionMultiplexer>() is not null));
        services.TryAddSingleton(provider => Create(provider));
        services.TryAddSingleton<ILockManager>(provider => new DeferredLockManager(
            provider.GetRequiredService<DistLockConnection>(), Settings(provider).NodeTimeout));
        services.TryAddSingleton(provider => provider.GetRequiredService<DistLockConnection>().StartAsync().GetAwaiter().GetResult());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DistLockWarmup>());
        return services;
    }

    /// <summary>Registers DistLock with settings from code only.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the settings.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDistLock(this IServiceCollection services, Action<DistLockSettings> configure) =>
        services.AddDistLock(configuration: null, configure);

    private static DistLockConnection Create(IServiceProvider provider)
    {
        // Validated when read (and at start-up); the manager takes its own copy of the options.
        var settings = Settings(provider);
        var logger = provider.GetService<ILoggerFactory>()?.CreateLogger("DistLock");
        return settings.Redis.Count > 0
            ? DistLockConnection.ForConfigurations([.. settings.Redis], settings, logger)
            : DistLockConnection.ForMultiplexer(provider.GetRequiredService<IConnectionMultiplexer>(), settings, logger);
    }

    private static DistLockSettings Settings(IServiceProvider provider) => provider.GetRequiredService<IOptions<DistLockSettings>>().Value;
}
