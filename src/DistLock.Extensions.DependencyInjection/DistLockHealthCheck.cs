using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DistLock;

/// <summary>
/// Healthy when every node answers, degraded when some do not but a majority does (locks are still
/// granted), unhealthy when no majority answers or the connection is not up (the description says why).
/// </summary>
public sealed class DistLockHealthCheck : IHealthCheck
{
    private readonly ILockManager _locks;

    /// <summary>A health check over <paramref name="locks"/>.</summary>
    /// <param name="locks">The lock manager to check.</param>
    public DistLockHealthCheck(ILockManager locks)
    {
        ArgumentNullException.ThrowIfNull(locks);
        _locks = locks;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        QuorumStatus status;
        try
        {
            status = await _locks.CheckNodesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (LockBackendException ex)
        {
            // Not connected yet (Redis down since start-up): the reason, not an unhandled exception.
            return new HealthCheckResult(context.Registration.FailureStatus, ex.Message, ex);
        }

        var data = new Dictionary<string, object> { ["nodes"] = status.Nodes, ["answering"] = status.Answering, ["quorum"] = status.Quorum };
        var where = _locks is DeferredLockManager deferred ? $" ({deferred.Endpoints})" : string.Empty;
        var description = $"{status.Answering} of {status.Nodes} Redis node(s){where} answer; {status.Quorum} needed";
        if (!status.Available)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, description, data: data);
        }

        return status.Answering == status.Nodes
            ? HealthCheckResult.Healthy(description, data)
            : HealthCheckResult.Degraded(description, data: data);
    }
}
