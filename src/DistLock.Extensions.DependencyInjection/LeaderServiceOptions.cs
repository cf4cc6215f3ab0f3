namespace DistLock;

/// <summary>The settings of one leader service (<see cref="LeaderServiceCollectionExtensions"/>).</summary>
public sealed class LeaderServiceOptions
{
    /// <summary>The election's settings: its lease, this instance's label, the backoff while Redis is down.</summary>
    public LeaderElectionOptions Election { get; } = new();

    /// <summary>
    /// How long the service waits before campaigning again after its work returned or threw while it
    /// led, so that work that fails at once does not spin. A term that was lost campaigns again at
    /// once: waiting in the line costs nothing. Default 5 s; zero or more.
    /// </summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(5);
}
