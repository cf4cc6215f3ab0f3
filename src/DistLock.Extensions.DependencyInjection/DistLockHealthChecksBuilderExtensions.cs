using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DistLock;

/// <summary>Adds DistLock's health check.</summary>
public static class DistLockHealthChecksBuilderExtensions
{
    /// <summary>Adds <see cref="DistLockHealthCheck"/> over the registered <see cref="ILockManager"/>.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">Reported when no majority answers; null uses Unhealthy.</param>
    /// <param name="tags">Tags for filtering checks.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddDistLock(
        this IHealthChecksBuilder builder, string name = "distlock", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name, provider => new DistLockHealthCheck(provider.GetRequiredService<ILockManager>()), failureStatus, tags));
    }
}
