namespace DistLock.Algorithm;

/// <summary>Sends one command to every node in parallel, each bounded by the node timeout (see <see cref="NodeCallDeadlines"/>).</summary>
internal static class QuorumRound
{
    /// <param name="nodes">The nodes.</param>
    /// <param name="command">The command to send to one node (static, so that a round allocates no closure).</param>
    /// <param name="state">What the command needs.</param>
    /// <param name="stopWhenDecided">
    /// Return as soon as a majority granted, or so many refused or failed that no majority can
    /// grant; otherwise wait for every node (or its timeout).
    /// </param>
    /// <param name="nodeTimeout">The longest wait for any one node.</param>
    /// <param name="time">The clock that times the nodes out.</param>
    public static Task<RoundResult> RunAsync<TState>(
        IReadOnlyList<ILockNode> nodes,
        Func<ILockNode, TState, Task<NodeResult>> command,
        TState state,
        bool stopWhenDecided,
        TimeSpan nodeTimeout,
        TimeProvider time) =>
        nodes.Count == 1
            ? RunOneAsync(nodes, Start(command, nodes[0], state), NodeCallDeadlines.For(time, nodeTimeout))
            : RunManyAsync(nodes, command, state, stopWhenDecided, NodeCallDeadlines.For(time, nodeTimeout));

    private static async Task<RoundResult> RunManyAsync<TState>(
        IReadOnlyList<ILockNode> nodes,
        Func<ILockNode, TState, Task<NodeResult>> command,
        TState state,
        bool stopWhenDecided,
        NodeCallDeadlines deadlines)
    {
        var count = nodes.Count;
        var calls = new Task<NodeResult>[count];
        var answers = new NodeResult?[count];
        var order = new Task<NodeResult>[count];
        for (var i = 0; i < count; i++)
        {
            calls[i] = Start(command, nodes[i], state);
            order[i] = deadlines.Bound(calls[i], nodes[i]).AsTask();
        }

        var bounded = new List<Task<NodeResult>>(order);
        var quorum = LockValidity.QuorumSize(count);
        int granted = 0, refusedOrFailed = 0;
        while (bounded.Count > 0)
        {
            var done = await Task.WhenAny(bounded).ConfigureAwait(false);
            bounded.Remove(done);
            var answer = await done.ConfigureAwait(false);
            answers[Array.IndexOf(order, done)] = answer;
            if (answer.Reply == NodeReply.Granted)
            {
                granted++;
            }
            else
            {
                refusedOrFailed++;
            }

            if (stopWhenDecided && (granted >= quorum || refusedOrFailed > count - quorum))
            {
                break;
            }
        }

        return new RoundResult(nodes, calls, order, answers);
    }

    private static Task<NodeResult> Start<TState>(Func<ILockNode, TState, Task<NodeResult>> command, ILockNode node, TState state)
    {
        try
        {
            return command(node, state);
        }
        catch (Exception ex)
        {
            return Task.FromException<NodeResult>(ex);
        }
    }

    /// <summary>
    /// The round of a single node (the common case): the same as a round of several, without the
    /// bookkeeping of several calls in flight, so the hot path has one state machine fewer.
    /// </summary>
    private static async Task<RoundResult> RunOneAsync(IReadOnlyList<ILockNode> nodes, Task<NodeResult> call, NodeCallDeadlines deadlines)
    {
        var answer = await deadlines.Bound(call, nodes[0]).ConfigureAwait(false);

        // The node answered (or was timed out), so its bounded call is never looked at: the round
        // passes its one call for both.
        Task<NodeResult>[] calls = [call];
        return new RoundResult(nodes, calls, calls, [answer]);
    }
}
