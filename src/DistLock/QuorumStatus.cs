namespace DistLock;

/// <summary>How many of a manager's nodes answered a check (<see cref="ILockManager.CheckNodesAsync"/>).</summary>
/// <param name="Nodes">How many nodes take part in each lock.</param>
/// <param name="Answering">How many answered within the node timeout.</param>
public sealed record QuorumStatus(int Nodes, int Answering)
{
    /// <summary>How many nodes must answer for locks to be granted: a majority.</summary>
    public int Quorum => (Nodes / 2) + 1;

    /// <summary>True when a majority answered, so locks can be granted.</summary>
    public bool Available => Answering >= Quorum;
}
