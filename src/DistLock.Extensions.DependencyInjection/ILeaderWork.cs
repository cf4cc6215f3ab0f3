namespace DistLock;

/// <summary>
/// Work that must run on one instance at a time: a scheduler, an outbox relay, a singleton
/// consumer. Registered with <see cref="LeaderServiceCollectionExtensions.AddLeaderService{TWork}"/>,
/// it runs while this instance leads the election, in a dependency-injection scope of its own per term.
/// </summary>
public interface ILeaderWork
{
    /// <summary>
    /// Runs for one term. Return (or throw) to end the term: the service resigns, so another instance
    /// can lead, and campaigns again after <see cref="LeaderServiceOptions.RestartDelay"/>.
    /// </summary>
    /// <param name="term">The term: stamp writes with <see cref="LeadershipTerm.FencingToken"/>.</param>
    /// <param name="cancellationToken">Cancelled when leadership is lost or the host stops: stop then.</param>
    /// <returns>The work.</returns>
    Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken);
}
