using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace DistLock;

/// <summary>
/// Runs work on one instance at a time: a hosted service per election name campaigns when the host
/// starts, runs the work while this instance leads (with a token cancelled on loss or shutdown),
/// campaigns again after a loss, and resigns on a graceful shutdown, which hands the leadership to the
/// next instance at once. Needs <see cref="ILockManager"/> (<c>AddDistLock</c>).
/// </summary>
public static class LeaderServiceCollectionExtensions
{
    /// <summary>Runs <typeparamref name="TWork"/> (resolved in a scope of its own per term) while this instance leads the election <paramref name="name"/>.</summary>
    /// <typeparam name="TWork">The work; registered as transient unless already registered.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The election's name (the name of its lock).</param>
    /// <param name="configure">Sets the service's settings; null for the defaults.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is invalid or already has a leader service.</exception>
    public static IServiceCollection AddLeaderService<TWork>(this IServiceCollection services, string name, Action<LeaderServiceOptions>? configure = null)
        where TWork : class, ILeaderWork
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddTransient<TWork>();
        return services.AddLeaderService(name, (provider, term, token) => provider.GetRequiredService<TWork>().RunAsync(term, token), configure);
    }

    /// <summary>Runs <paramref name="work"/> while this instance leads the election <paramref name="name"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The election's name (the name of its lock).</param>
    /// <param name="work">The work for one term: given the term's scoped services, the term, and a token cancelled on loss or shutdown.</param>
    /// <param name="configure">Sets the service's settings; null for the defaults.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is invalid or already has a leader service.</exception>
    public static IServiceCollection AddLeaderService(
        this IServiceCollection services, string name, Func<IServiceProvider, LeadershipTerm, CancellationToken, Task> work, Action<LeaderServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(work);
        if (services.Any(d => d.ServiceType == typeof(LeaderService) && Equals(d.ServiceKey, name)))
        {
            throw new ArgumentException($"The election '{name}' already has a leader service.", nameof(name));
        }

        var options = new LeaderServiceOptions();
        configure?.Invoke(options);
        options.Election.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RestartDelay, TimeSpan.Zero, nameof(configure));
        services.AddKeyedSingleton(name, (provider, _) => new LeaderService(provider, name, work, options));
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredKeyedService<LeaderService>(name));
        return services;
    }

    /// <summary>
    /// A health check entry that says whether this instance leads the election <paramref name="name"/>
    /// (registered with <c>AddLeaderService</c>): Healthy when it leads or follows, with the answer in
    /// its description and <c>data["leader"]</c>; <paramref name="failureStatus"/> while Redis cannot say who leads.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The election's name.</param>
    /// <param name="failureStatus">Reported when Redis does not answer; null for Unhealthy.</param>
    /// <param name="tags">Tags for the entry.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddLeaderService(this IHealthChecksBuilder builder, string name, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ValidateName(name);
        return builder.Add(new HealthCheckRegistration(
            $"leader:{name}", provider => new LeaderHealthCheck(provider.GetRequiredKeyedService<LeaderService>(name)), failureStatus, tags));
    }

    /// <summary>
    /// Refuses at registration a name the election would refuse (too long, a lone surrogate, ...): the
    /// hosted service would otherwise fail at start-up, and by default stop the host.
    /// </summary>
    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        try
        {
            // An election is the lock of its name: its request checks the name as the election does.
            _ = new LockRequest(name);
        }
        catch (ArgumentException ex)
        {
            // Its message names its own parameter ("(Parameter 'resource')"): this one names the caller's.
            throw new ArgumentException(ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal), nameof(name), ex);
        }
    }
}
