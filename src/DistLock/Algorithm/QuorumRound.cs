namespace DistLock.Algorithm;

/// <summary>Sends one command to every node in parallel, each bounded by the node timeout (see <see cref="NodeCallDeadlines"/>).</summary>
internal static class QuorumRound
{
    /// <summary>The least a split round with a rival's turn waits for the nodes still out (see <see cref="RunAsync"/>).</summary>
    public static readonly TimeSpan RivalPatience = TimeSpan.FromMilliseconds(10);

    /// <param name="nodes">The nodes.</param>
    /// <param name="command">The command to send to one node (static, so that a round allocates no closure).</param>
    /// <param name="state">What the command needs.</param>
    /// <param name="stopWhenDecided">
    /// Return as soon as a majority granted, or so many refused or failed that no majority can
    /// grant; otherwise wait for every node (or its timeout).
    /// </param>
    /// <param name="nodeTimeout">The longest wait for any one node.</param>
    /// <param name="time">The clock that times the nodes out.</param>
    /// <param name="endSplitOn">
    /// Once this is cancelled (a wake of the queue that made the attempt), a split round (some nodes
    /// granted, some refused) stops as lost instead of waiting for the nodes still out: when they
    /// hang, only they could settle it, at the node timeout. The wake says a refusing node may have
    /// just been released, so asking again wins sooner.
    /// </param>
    /// <remarks>
    /// A split round whose only nodes still out are <see cref="ILockNode.Silent"/> stops as lost too:
    /// they are most likely down, and would settle it at the node timeout. Contenders that split the
    /// live nodes between them then ask again at once instead of a node timeout later. And a split round in which a node refused because another holder or queue holds it (see
    /// <see cref="NodeResult.IsHeldByOther"/>) waits for the nodes still out only a short patience
    /// (four times what the round took so far, at least <see cref="RivalPatience"/>), then stops as
    /// lost: contenders split the nodes, and only a node that may hang could settle it.
    /// </remarks>
    public static Task<RoundResult> RunAsync<TState>(
        IReadOnlyList<ILockNode> nodes,
        Func<ILockNode, TState, Task<NodeResult>> command,
        TState state,
        bool stopWhenDecided,
        TimeSpan nodeTimeout,
        TimeProvider time,
        CancellationToken endSplitOn = default) =>
        nodes.Count == 1
            ? RunOneAsync(nodes, Start(command, nodes[0], state), NodeCallDeadlines.For(time, nodeTimeout))
            : RunManyAsync(nodes, command, state, stopWhenDecided, NodeCallDeadlines.For(time, nodeTimeout), endSplitOn);

    private static async Task<RoundResult> RunManyAsync<TState>(
        IReadOnlyList<ILockNode> nodes,
        Func<ILockNode, TState, Task<NodeResult>> command,
        TState state,
        bool stopWhenDecided,
        NodeCallDeadlines deadlines,
        CancellationToken endSplitOn)
    {
        var count = nodes.Count;
        var calls = new Task<NodeResult>[count];
        var bounded = new Task<NodeResult>[count];
        for (var i = 0; i < count; i++)
        {
            calls[i] = Start(command, nodes[i], state);
            bounded[i] = deadlines.Bound(calls[i], nodes[i]).AsTask();
        }

        var tally = new Tally(nodes, stopWhenDecided, deadlines.Time);
        for (var i = 0; i < count; i++)
        {
            tally.Watch(bounded[i], i);
        }

        // Off the thread that cancels (a subscription's): the round's continuation runs where it ends.
        using var endSplit = stopWhenDecided && endSplitOn.CanBeCanceled
            ? endSplitOn.UnsafeRegister(static t => ThreadPool.UnsafeQueueUserWorkItem(static t => t.EndSplit(), (Tally)t!, preferLocal: false), tally)
            : default;
        var answers = await tally.Decided.ConfigureAwait(false);
        return new RoundResult(nodes, calls, bounded, answers);
    }

    /// <summary>
    /// Counts the answers of a round as they come, and completes <see cref="Decided"/> once, when the
    /// round is decided (or every node answered): one registration per node, instead of a
    /// <c>Task.WhenAny</c> over the calls left after each answer. Answers that come after that are
    /// not recorded, so the round's answers stay as they were when it returned.
    /// </summary>
    private sealed class Tally(IReadOnlyList<ILockNode> nodes, bool stopWhenDecided, TimeProvider time)
    {
        private readonly int _count = nodes.Count;
        private readonly NodeResult?[] _answers = new NodeResult?[nodes.Count];
        private readonly TaskCompletionSource<NodeResult?[]> _decided = new();
        private readonly Lock _gate = new();
        private readonly int _quorum = LockValidity.QuorumSize(nodes.Count);
        private int _granted;
        private int _refusedOrFailed;
        private int _failed;
        private readonly long _startedAt = time.GetTimestamp();
        private ITimer? _patience;
        private bool _endSplit;
        private bool _done;

        public Task<NodeResult?[]> Decided => _decided.Task;

        public void Watch(Task<NodeResult> bounded, int index)
        {
            if (bounded.IsCompleted)
            {
                Record(index, bounded.Result);
                return;
            }

            // The bounded call never faults (see NodeCallDeadlines.Bound).
            bounded.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => Record(index, bounded.Result));
        }

        /// <summary>From now on a split round ends (see <see cref="RunAsync"/>'s endSplitOn).</summary>
        public void EndSplit() => Record(-1, default);

        /// <param name="index">The node that answered; -1 for <see cref="EndSplit"/>.</param>
        /// <param name="answer">Its answer.</param>
        private void Record(int index, NodeResult answer)
        {
            lock (_gate)
            {
                if (_done)
                {
                    return;
                }

                if (index < 0)
                {
                    _endSplit = true;
                }
                else
                {
                    Count(index, answer);
                }

                var pending = _count - _granted - _refusedOrFailed;
                var split = _granted > 0 && _refusedOrFailed > _failed && (_endSplit || OnlySilentOut()) && OutageSettled(pending);
                var decided = stopWhenDecided && (_granted >= _quorum || (_refusedOrFailed > _count - _quorum && OutageSettled(pending)));
                if (pending > 0 && !decided && !split)
                {
                    return;
                }

                _done = true;
            }

            _patience?.Dispose();
            // Outside the lock: this runs the round's continuation.
            _decided.SetResult(_answers);
        }

        private void Count(int index, NodeResult answer)
        {
            _answers[index] = answer;
            if (answer.Reply == NodeReply.Granted)
            {
                _granted++;
            }
            else
            {
                _refusedOrFailed++;
                _failed += answer.Reply == NodeReply.Failed ? 1 : 0;
                if (_patience is null && answer.IsHeldByOther)
                {
                    var patience = TimeSpan.FromTicks(Math.Max(RivalPatience.Ticks, 4 * time.GetElapsedTime(_startedAt).Ticks));
                    _patience = time.CreateTimer(static t => ((Tally)t!).EndSplit(), this, patience, Timeout.InfiniteTimeSpan);
                }
            }
        }

        private bool OnlySilentOut()
        {
            for (var i = 0; i < _count; i++)
            {
                if (_answers[i] is null && !nodes[i].Silent)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// Whether a lost round is a busy lock or an outage is known: a majority failed, or too few
        /// can still fail for that. A refusal with one failure in three is not yet either: if the
        /// node still out fails too, no majority could answer, and the caller must hear of an outage,
        /// not of a busy lock. (A hung minority still costs nothing: refusals from a majority settle it.)
        /// </summary>
        private bool OutageSettled(int pending) => _failed > _count - _quorum || _failed + pending <= _count - _quorum;
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
