using DistLock.Transport;

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
    public static async Task<RoundResult> RunAsync<TState>(
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
        if (count == 1)
        {
            calls[0] = Start(command, nodes[0], state);
            order[0] = BoundAsync(calls[0], nodes[0], nodeTimeout, time);
            answers[0] = await order[0].ConfigureAwait(false);
            return new RoundResult(nodes, calls, order, answers);
        }

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

    /// <summary>Turns a node's timeout or error into a <see cref="NodeReply.Failed"/> answer.</summary>
    private static async Task<NodeResult> BoundAsync(Task<NodeResult> call, ILockNode node, TimeSpan timeout, TimeProvider time)
    {
        try
        {
            return await call.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!call.IsCompleted)
        {
            return NodeResult.Failed(new TimeoutException(
                $"Redis node {node.Name} did not answer within {timeout.TotalMilliseconds:F0} ms."));
        }
        catch (Exception ex)
        {
            return NodeResult.Failed(ex);
        }
    }
}
