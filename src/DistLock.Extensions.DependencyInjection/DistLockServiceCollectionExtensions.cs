using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DistLock;

/// <summary>Registers DistLock in a service collection.</summary>
public static class DistLockServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="RedisLockManager"/> (also as <see cref="ILockManager"/>)
    /// configured from <paramref name="configuration"/> (e.g. <c>builder.Configuration.GetSection("DistLock")</c>)
    /// and then <paramref name="configure"/>. Settings are validated when the host starts. With no
    /// Redis configured, an <see cref="IConnectionMultiplexer"/> already registered is used. The
    /// manager logs through the host's logging and measures through its <see cref="IMeterFactory"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section with DistLock's settings; null for none.</param>
    /// <param name="configure">Changes applied after the configuration; null for none.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDistLock(
        this IServiceCollection services, IConfiguration? configuration = null, Action<DistLockSettings>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var section = configuration is IConfigurationSection named ? named.Path : DistLockSettings.SectionName;
        var builder = services.AddOptions<DistLockSettings>();
        if (configuration is not null)
        {
            builder.Bind(configuration);
        }

        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.AddSingleton<IValidateOptions<DistLockSettings>>(provider =>
            new DistLockSettingsValidator(section, provider.GetService<IConnectionMultiplexer>() is not null));
        services.TryAddSingleton(provider => Create(provider, section));
        services.TryAddSingleton<ILockManager>(provider => provider.GetRequiredService<RedisLockManager>());
        return services;
    }

    /// <summary>Registers DistLock with settings from code only.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the settings.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDistLock(this IServiceCollection services, Action<DistLockSettings> configure) =>
        services.AddDistLock(configuration: null, configure);

    private static RedisLockManager Create(IServiceProvider provider, string section)
    {
        var settings = provider.GetRequiredService<IOptions<DistLockSettings>>().Value;
        var errors = new List<string>();
        var options = settings.ToLockOptions(section, errors);
        options.MeterFactory = provider.GetService<IMeterFactory>();
        var logger = provider.GetService<ILoggerFactory>()?.CreateLogger("DistLock");
        if (settings.Redis.Count > 0)
        {
            // A singleton factory cannot await; connecting happens once, at first use.
            return RedisLockManager.ConnectAsync(settings.Redis, options, logger).GetAwaiter().GetResult();
        }

        return new RedisLockManager(provider.GetRequiredService<IConnectionMultiplexer>(), options, logger);
    }
}
