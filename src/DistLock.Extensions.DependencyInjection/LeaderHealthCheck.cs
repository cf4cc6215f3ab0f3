using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DistLock;

/// <summary>
/// Whether this instance leads an election: Healthy either way (a follower is as healthy as the
/// leader), with the answer in the description and in <c>data["leader"]</c>; Unhealthy while Redis
/// cannot say who leads.
/// </summary>
internal sealed class LeaderHealthCheck(LeaderService service) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (service.Election is not { } election)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The leader service of {service.Name} has not started.");
        }

        LeaderInfo? leader;
        try
        {
            leader = await election.GetLeaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (LockBackendException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, ex.Message, ex);
        }

        // A leader names its own term: read from Redis, a term that has just begun can still show the
        // token before it (the token is issued once the lock is held), as "term 0" after a restart.
        var term = service.Term;
        var leads = term is { Lost.IsCancellationRequested: false };
        var data = new Dictionary<string, object> { ["leader"] = leads };
        if (leads)
        {
            data["term"] = term!.FencingToken;
        }
        else if (leader is not null)
        {
            data["term"] = leader.FencingToken;
        }

        if (leader is not null)
        {
            data["leaderLabel"] = leader.HolderLabel ?? leader.HolderId;
        }

        var description = leads ? $"leads {service.Name} (term {term!.FencingToken})"
            : leader is null ? $"campaigns for {service.Name}; nobody leads"
            : $"follows in {service.Name}: {leader.HolderLabel ?? leader.HolderId} leads (term {leader.FencingToken})";
        return HealthCheckResult.Healthy(description, data);
    }
}
