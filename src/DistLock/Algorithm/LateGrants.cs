namespace DistLock.Algorithm;

/// <summary>
/// What a handle keeps of the round that won its lock, for the release: the calls of nodes that
/// had not answered when the round was decided (Redlock stops at the first majority). A release
/// that such a node runs before the acquire is sent again once the acquire grants. Null for a
/// round every node answered, as any single-node round does.
/// </summary>
internal sealed class LateGrants
{
    private readonly (ILockNode Node, Task<NodeResult> Call)[] _pending;

    private LateGrants((ILockNode, Task<NodeResult>)[] pending) => _pending = pending;

    public IReadOnlyList<(ILockNode Node, Task<NodeResult> Call)> Pending => _pending;

    /// <summary>The acquire call still pending on <paramref name="node"/>, if any.</summary>
    public Task<NodeResult>? CallTo(ILockNode node)
    {
        foreach (var (pendingNode, call) in _pending)
        {
            if (ReferenceEquals(pendingNode, node))
            {
                return call;
            }
        }

        return null;
    }

    /// <summary>The nodes of <paramref name="round"/> without an answer, or null when there are none.</summary>
    public static LateGrants? Of(RoundResult round)
    {
        List<(ILockNode, Task<NodeResult>)>? pending = null;
        for (var i = 0; i < round.Nodes.Count; i++)
        {
            if (round.Answers[i] is not { Reply: NodeReply.Granted or NodeReply.Denied })
            {
                (pending ??= []).Add((round.Nodes[i], round.Calls[i]));
            }
        }

        return pending is null ? null : new LateGrants([.. pending]);
    }
}
