namespace DistLock.Algorithm;

/// <summary>What the nodes answered in one round, as far as the round waited.</summary>
internal sealed class RoundResult
{
    public RoundResult(IReadOnlyList<ILockNode> nodes, Task<NodeResult>[] calls, Task<NodeResult>[] bounded, NodeResult?[] answers)
    {
        Nodes = nodes;
        Calls = calls;
        Bounded = bounded;
        Answers = answers;
        foreach (var answer in answers)
        {
            switch (answer?.Reply)
            {
                case NodeReply.Granted:
                    Granted++;
                    break;
                case NodeReply.Denied:
                    Denied++;
                    if (answer.Value.HolderTtl is { } ttl && (ShortestHolderTtl is null || ttl < ShortestHolderTtl))
                    {
                        ShortestHolderTtl = ttl;
                    }

                    Busy = answer.Value.Busy is { } busy ? [.. Busy.Union(busy, StringComparer.Ordinal)] : Busy;
                    OwnLateGrant |= answer.Value.OwnLateGrant;

                    break;
                case NodeReply.Failed:
                    Failed++;
                    FirstError ??= answer.Value.Error;
                    break;
            }
        }
    }

    public IReadOnlyList<ILockNode> Nodes { get; }

    /// <summary>The raw calls, one per node; some may still be running after a round that stopped early.</summary>
    public Task<NodeResult>[] Calls { get; }

    /// <summary>
    /// The calls bounded by the node timeout: they never throw, and end by the timeout at the
    /// latest. Only the entries of nodes without an answer are meaningful.
    /// </summary>
    public Task<NodeResult>[] Bounded { get; }

    /// <summary>Each node's answer, or null where the round stopped before it answered.</summary>
    public NodeResult?[] Answers { get; }

    public int Granted { get; }

    public int Denied { get; }

    public int Failed { get; }

    public Exception? FirstError { get; }

    /// <summary>The keys that a node refusing an acquire of several named as not the caller's to take (any node's).</summary>
    public IReadOnlyList<string> Busy { get; } = [];

    /// <summary>True when a node refused an acquire because the caller's own late grant from an earlier attempt still held there.</summary>
    public bool OwnLateGrant { get; }

    /// <summary>The shortest remaining TTL reported by a node that refused an acquire.</summary>
    public TimeSpan? ShortestHolderTtl { get; }

    /// <summary>True when a majority of the nodes did what was asked.</summary>
    public bool MajorityGranted => Granted >= LockValidity.QuorumSize(Nodes.Count);

    /// <summary>True when so many nodes failed that no majority could have answered at all.</summary>
    public bool BackendUnavailable => Failed > Nodes.Count - LockValidity.QuorumSize(Nodes.Count);
}
