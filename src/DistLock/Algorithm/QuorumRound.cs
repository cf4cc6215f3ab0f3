namespace DistLock.Algorithm;

/// <summary>Sends one command to every node in parallel, each bounded by the node timeout.</summary>
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
            ? RunOneAsync(nodes, Start(command, nodes[0], state), nodeTimeout, time)
            : RunManyAsync(nodes, command, state, stopWhenDecided, nodeTimeout, time);

    private static async Task<RoundResult> RunManyAsync<TState>(
        IReadOnlyList<ILockNode> nodes,
        Func<ILockNode, TState, Task<NodeResult>> command,
        TState state,
        bool stopWhenDecided,
        TimeSpan nodeTimeout,
        TimeProvider time)
    {
        var count = nodes.Count;
        var calls = new Task<NodeResult>[count];
        var answers = new NodeResult?[count];
        var order = new Task<NodeResult>[count];
        for (var i = 0; i < count; i++)
        {
            calls[i] = Start(command, nodes[i], state);
            order[i] = BoundAsync(calls[i], nodes[i], nodeTimeout, time);
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
    private static async Task<RoundResult> RunOneAsync(IReadOnlyList<ILockNode> nodes, Task<NodeResult> call, TimeSpan timeout, TimeProvider time)
    {
        NodeResult answer;
        try
        {
            answer = await call.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            answer = Failure(ex, call, nodes[0], timeout);
        }

        // The node answered (or was timed out), so its bounded call is never looked at: the round
        // passes its one call for both.
        Task<NodeResult>[] calls = [call];
        return new RoundResult(nodes, calls, calls, [answer]);
    }

    /// <summary>Turns a node's timeout or error into a <see cref="NodeReply.Failed"/> answer.</summary>
    private static async Task<NodeResult> BoundAsync(Task<NodeResult> call, ILockNode node, TimeSpan timeout, TimeProvider time)
    {
        try
        {
            return await call.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Failure(ex, call, node, timeout);
        }
    }

    private static NodeResult Failure(Exception error, Task<NodeResult> call, ILockNode node, TimeSpan timeout) =>
        error is TimeoutException && !call.IsCompleted
            ? NodeResult.Failed(new TimeoutException($"Redis node {node.Name} did not answer within {timeout.TotalMilliseconds:F0} ms."))
            : NodeResult.Failed(error);
}
