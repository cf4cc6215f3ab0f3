using Microsoft.Extensions.Logging;

namespace DistLock.Algorithm;

/// <summary>
/// Acquire, extend and release over N independent nodes (Redlock); N = 1 is the single-instance
/// lock. A lock is held when a majority of nodes hold its key and the validity is positive.
/// </summary>
internal sealed class RedlockProtocol
{
    private readonly IReadOnlyList<ILockNode> _nodes;
    private readonly string[] _nodeNames;
    private readonly TimeSpan _nodeTimeout;
    private readonly double _driftFactor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public RedlockProtocol(IReadOnlyList<ILockNode> nodes, TimeSpan nodeTimeout, double driftFactor, TimeProvider time, ILogger logger)
    {
        _nodes = nodes;
        _nodeNames = [.. nodes.Select(n => n.Name)];
        _nodeTimeout = nodeTimeout;
        _driftFactor = driftFactor;
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<ILockNode> Nodes => _nodes;

    public TimeProvider Time => _time;

    /// <summary>How long one call to a node may take.</summary>
    public TimeSpan NodeTimeout => _nodeTimeout;

    /// <summary>The clean-ups under way that a closing manager waits for, before its connections close (see <see cref="InFlightWork"/>).</summary>
    public InFlightWork InFlight { get; } = new();

    /// <summary>One attempt: ask every node, and undo the partial grants when it fails.</summary>
    /// <param name="hold">What to take, on which resource.</param>
    /// <param name="id">The owner's lock id.</param>
    /// <param name="ttl">The hold's time to live.</param>
    /// <param name="queue">The waiting queue, which claims its turn or keeps its place in line on a refusal; "" for none.</param>
    /// <param name="stay">Whether the queue keeps its place after taking the hold (more of its waiters follow).</param>
    /// <param name="turnEndsAt">When the turn last handed to the queue ends (a timestamp of the clock), or 0: what a failed attempt gives back of it.</param>
    /// <param name="endSplitOn">Cancelled by the queue's next wake: a split vote then ends as lost (see <see cref="QuorumRound.RunAsync"/>).</param>
    /// <param name="wakeNotice">The notice of the wake that handed the queue its turn, if any (see <see cref="NodeResult.IsRivalTurn"/>).</param>
    public async Task<AttemptResult> TryAcquireOnceAsync(
        Hold hold, string id, TimeSpan ttl, string queue = "", bool stay = false, long turnEndsAt = 0, CancellationToken endSplitOn = default, string? wakeNotice = null)
    {
        EnsureCompatible();
        var sentAt = _time.GetTimestamp();
        var arrival = queue.Length > 0 ? ArrivalStamp.Next(_time) : 0;
        var round = await QuorumRound
            .RunAsync(_nodes, static (node, s) => s.hold.AcquireAsync(node, s.id, s.ttl, s.queue, s.stay, s.arrival), (hold, id, ttl, queue, stay, arrival), stopWhenDecided: true, _nodeTimeout, _time, endSplitOn)
            .ConfigureAwait(false);
        if (ValidityIfWon(round, ttl, sentAt) is { } validity)
        {
            return AttemptResult.Success(validity, sentAt, round);
        }

        var failed = round.BackendUnavailable ? AttemptResult.Unavailable(sentAt, round) : AttemptResult.Busy(sentAt, round);
        // Two queues that split the nodes' turns between them would each keep theirs and split again
        // (each node's line has the other first): a coin decides which keeps its turns, so that half
        // the time one gives them up to the next in line, which is the other.
        var yields = SplitWithRival(round, wakeNotice) && Random.Shared.Next(2) == 0;
        await UndoAsync(failed, hold, id, queue, turnEndsAt, yields, wakeNotice).ConfigureAwait(false);
        return failed;
    }

    /// <summary>
    /// The notice of an undo: in the queue's name when there is one, not the lock id's, so that a
    /// waiter it wakes does not take this waiter's next grant (same id) for the holder it woke for,
    /// still on its way out (see <see cref="NodeResult.IsRivalTurn"/>).
    /// </summary>
    private static string UndoNotice(string queue, string id) => ReleaseNotice.New(queue.Length > 0 ? queue : id);

    /// <summary>Whether the caller took its turn on some node and another queue's turn refused it on another.</summary>
    private static bool SplitWithRival(RoundResult round, string? wakeNotice)
    {
        bool tookTurn = false, rival = false;
        foreach (var answer in round.Answers)
        {
            tookTurn |= answer is { TookTurn: true };
            rival |= answer is { } a && a.IsRivalTurn(wakeNotice);
        }

        return tookTurn && rival;
    }

    /// <summary>
    /// Issues a fencing token to a hold (on demand: an acquire issues none), only while it is held:
    /// the highest token of a majority of nodes that issued one while the hold was theirs. That token
    /// must also be the floor on a majority, because a later holder's majority includes one of them
    /// and asks there only after this hold is gone, so that node then issues a higher token. Nodes
    /// that issued the highest token already have that floor; when they are fewer than a majority (the
    /// counters drifted apart after a node failed or restarted), the others that issued one are raised
    /// to it first, again only while the hold is theirs. See docs/safety.md.
    /// </summary>
    /// <returns>The token, or null when the hold is not held (any more) on a majority.</returns>
    /// <exception cref="LockBackendException">Too many nodes failed to tell.</exception>
    public async Task<long?> IssueFenceAsync(Hold hold, string id)
    {
        var round = await QuorumRound
            .RunAsync(_nodes, static (node, s) => s.hold.FenceAsync(node, s.id, 0), (hold, id), stopWhenDecided: true, _nodeTimeout, _time)
            .ConfigureAwait(false);
        if (round.BackendUnavailable)
        {
            throw BackendException("fence", hold, round);
        }

        if (!round.MajorityGranted)
        {
            return null;
        }

        var (token, atToken) = HighestFence(round);
        if (atToken >= LockValidity.QuorumSize(_nodes.Count))
        {
            return token;
        }

        var behind = new List<ILockNode>();
        for (var i = 0; i < round.Nodes.Count; i++)
        {
            if (round.Answers[i] is { Reply: NodeReply.Granted, Fence: var fence } && fence < token)
            {
                behind.Add(round.Nodes[i]);
            }
            else if (round.Answers[i] is null)
            {
                // Not needed for this token, but raising the others too keeps the counters in step.
                _ = RaiseQuietlyAsync(round.Nodes[i], hold, id, token);
            }
        }

        var raised = await QuorumRound
            .RunAsync(behind, static (node, s) => s.hold.FenceAsync(node, s.id, s.token), (hold, id, token), stopWhenDecided: false, _nodeTimeout, _time)
            .ConfigureAwait(false);
        return atToken + raised.Granted >= LockValidity.QuorumSize(_nodes.Count) ? token : null;
    }

    /// <summary>The highest token the granting nodes issued, and how many issued it.</summary>
    private static (long Token, int AtToken) HighestFence(RoundResult round)
    {
        long token = 0;
        var atToken = 0;
        foreach (var answer in round.Answers)
        {
            if (answer is { Reply: NodeReply.Granted, Fence: var fence })
            {
                if (fence > token)
                {
                    (token, atToken) = (fence, 1);
                }
                else if (fence == token)
                {
                    atToken++;
                }
            }
        }

        return (token, atToken);
    }

    /// <summary>
    /// Awaits <paramref name="work"/> for at most the node timeout, and no longer than
    /// <paramref name="budget"/> (what is left of a call's bound); what is left carries on unobserved.
    /// </summary>
    public async Task WithinNodeTimeoutAsync(Task work, TimeSpan? budget = null)
    {
        var patience = budget is { } left && left < _nodeTimeout ? left : _nodeTimeout;
        if (patience <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await work.WaitAsync(patience, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Bounded like every other call to a node; the work finishes (or fails) on its own.
        }
    }

    private async Task RaiseQuietlyAsync(ILockNode node, Hold hold, string id, long token)
    {
        try
        {
            await hold.FenceAsync(node, id, token).WaitAsync(_nodeTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.NodeFailed(_logger, ex, "fence raise", hold.Key, 1, _nodes.Count);
        }
    }

    /// <summary>
    /// Gives back what a failed attempt took: the nodes that granted are released before the
    /// attempt returns. A node that has not answered (or did not answer in time) is released if and
    /// when its late answer is a grant, in the background: a paused or slow node cannot keep a key
    /// that nobody owns, and a hung minority node does not cost every refused attempt the node timeout.
    /// A grant that took the <paramref name="queue"/>'s turn is given back to the queue (see
    /// <see cref="Hold.GiveBackAsync"/>) until <paramref name="turnEndsAt"/>, never later, so that two
    /// queues that keep splitting cannot keep their turns for ever: the attempt, made on a wake,
    /// overtook the release on the other nodes, and the turn is still the queue's. A queue that gives
    /// its turn up (<paramref name="yields"/>) releases it instead, and also leaves the line of each node that refused it for
    /// a rival (<see cref="NodeResult.IsRivalTurn"/>, given the <paramref name="wakeNotice"/>): it
    /// lost its place where it took its turn, and a place kept on the others would leave the nodes'
    /// lines in different orders, so that every later release split them again.
    /// </summary>
    private async Task UndoAsync(AttemptResult attempt, Hold hold, string id, string queue, long turnEndsAt, bool yields, string? wakeNotice)
    {
        var round = attempt.Round;
        turnEndsAt = yields ? 0 : turnEndsAt;
        var notice = UndoNotice(queue, id);
        List<Task>? undo = null;
        for (var i = 0; i < round.Nodes.Count; i++)
        {
            switch (round.Answers[i])
            {
                case { Reply: NodeReply.Granted } granted:
                    (undo ??= []).Add(UndoOneAsync(round.Nodes[i], granted, hold, id, (queue, turnEndsAt), notice));
                    break;
                case null or { Reply: NodeReply.Failed }:
                    _ = UndoIfGrantedAsync(round.Nodes[i], round.Calls[i], hold, id, (queue, turnEndsAt));
                    break;
                case { } refused when yields && refused.IsRivalTurn(wakeNotice):
                    (undo ??= []).Add(LeaveLineAsync(round.Nodes[i], hold, queue, notice));
                    break;
            }
        }

        if (undo is not null)
        {
            await Task.WhenAll(undo).ConfigureAwait(false);
        }
    }

    /// <summary>Extends on every node; true when a majority extended in time.</summary>
    /// <returns>The new validity, counted from the returned send time, or null when the lock is lost.</returns>
    /// <exception cref="LockBackendException">Too many nodes failed to tell.</exception>
    public async Task<(TimeSpan Validity, long SentAt)?> ExtendAsync(Hold hold, string id, TimeSpan ttl)
    {
        EnsureCompatible();
        var sentAt = _time.GetTimestamp();
        var round = await QuorumRound
            .RunAsync(_nodes, static (node, s) => s.hold.ExtendAsync(node, s.id, s.ttl), (hold, id, ttl), stopWhenDecided: true, _nodeTimeout, _time)
            .ConfigureAwait(false);
        if (ValidityIfWon(round, ttl, sentAt) is { } validity)
        {
            return (validity, sentAt);
        }

        if (round.BackendUnavailable)
        {
            throw BackendException("extend", hold, round);
        }

        return null;
    }

    /// <summary>
    /// Releases on every node; returns as soon as the outcome is decided (a majority ended the
    /// hold, or no majority can), so a hung minority node does not cost every release the node
    /// timeout. The calls to the nodes that had not answered go on in the background, bounded by
    /// the node timeout: they were sent, so a node that wakes up runs them and deletes its key.
    /// </summary>
    /// <param name="hold">The hold.</param>
    /// <param name="id">Its holder.</param>
    /// <param name="lateGrants">The acquire calls of the winning round still in flight (see <see cref="LateGrants"/>).</param>
    /// <param name="successor">
    /// A local waiter claimed for the hold (see <see cref="Successor"/>), which gets its outcome before
    /// this returns or throws: the hold, when a majority of the nodes handed it over, else null.
    /// </param>
    /// <returns>True when a majority still held it and ended the hold.</returns>
    /// <exception cref="LockBackendException">A majority of nodes failed.</exception>
    public async Task<bool> ReleaseAsync(Hold hold, string id, LateGrants? lateGrants = null, Successor? successor = null)
    {
        var notice = ReleaseNotice.New(id);
        var sentAt = _time.GetTimestamp();
        RoundResult round;
        try
        {
            round = await QuorumRound
                .RunAsync(
                    _nodes,
                    static (node, s) => s.protocol.ReleaseBehind(
                        s.lateGrants?.CallTo(node),
                        s.successor is { } next
                            ? s.hold.HandOverAsync(node, s.id, (next.Queue, next.Id, next.Ttl, next.Stay), s.notice)
                            : s.hold.ReleaseAsync(node, s.id, s.notice),
                        node,
                        s.hold,
                        s.id),
                    (protocol: this, hold, id, notice, lateGrants, successor),
                    stopWhenDecided: true,
                    _nodeTimeout,
                    _time)
                .ConfigureAwait(false);
            if (successor is not null)
            {
                var (handed, answered) = HandedOver(round, hold, successor, sentAt);
                successor.Resolve(handed, answered);
            }
        }
        finally
        {
            successor?.Resolve(null, answered: false);
        }

        if (round.BackendUnavailable)
        {
            throw BackendException("release", hold, round);
        }

        for (var i = 0; i < round.Nodes.Count; i++)
        {
            if (round.Answers[i] is null)
            {
                _ = LogIfFailedAsync(round.Bounded[i], "release", hold.Key);
            }
        }

        if (round.Failed > 0)
        {
            Log.NodeFailed(_logger, round.FirstError, "release", hold.Key, round.Failed, _nodes.Count);
        }

        return round.MajorityGranted;
    }

    /// <summary>
    /// What a release that offered the hold to <paramref name="successor"/> gives it: the hold, valid
    /// from when the release was sent, when a majority of the nodes handed it over in time. Each node
    /// decides alone (the turn may be another queue's there), so a handoff that fell short of a
    /// majority, or ran out of validity, is given back on every node that made it; so is one answered
    /// too late, or that failed and so may have run with its reply lost. The hold is then not left to
    /// a waiter that does not know it has it; the waiter looks again (<see cref="Successor.Answered"/>).
    /// </summary>
    private (AttemptResult? Handed, bool Answered) HandedOver(RoundResult round, Hold hold, Successor successor, long sentAt)
    {
        var handed = 0;
        foreach (var answer in round.Answers)
        {
            handed += answer is { HandedOver: true } ? 1 : 0;
        }

        if (ValidityIf(handed >= LockValidity.QuorumSize(_nodes.Count), successor.Ttl, sentAt) is { } validity)
        {
            return (AttemptResult.Success(validity, sentAt, AsAcquireRound(round)), true);
        }

        var answered = true;
        for (var i = 0; i < round.Nodes.Count; i++)
        {
            if (round.Answers[i] is not { HandedOver: false, Reply: NodeReply.Granted or NodeReply.Denied })
            {
                // Called before the caller resolves the successor: see ReleaseIfHandedAsync for why.
                _ = ReleaseIfHandedAsync(round.Calls[i], round.Nodes[i], hold, successor.Id);
                answered = false;
            }
        }

        return (null, answered);
    }

    /// <summary>
    /// The release round as the successor's acquire round: a node that handed the hold over granted
    /// it, one that did not refused, and a call still out is a late grant if it hands over (see
    /// <see cref="LateGrants"/>).
    /// </summary>
    private static RoundResult AsAcquireRound(RoundResult round)
    {
        if (LateGrants.Of(round) is null)
        {
            return round; // Every node answered: the handle keeps nothing of the round.
        }

        var count = round.Nodes.Count;
        var answers = new NodeResult?[count];
        var calls = new Task<NodeResult>[count];
        for (var i = 0; i < count; i++)
        {
            answers[i] = round.Answers[i] is { Reply: NodeReply.Granted or NodeReply.Denied } answer
                ? answer.HandedOver ? NodeResult.Granted : new NodeResult(NodeReply.Denied)
                : round.Answers[i];
            calls[i] = answers[i] is { Reply: NodeReply.Granted or NodeReply.Denied } ? round.Calls[i] : AsGrantAsync(round.Calls[i]);
        }

        return new RoundResult(round.Nodes, calls, calls, answers);

        static async Task<NodeResult> AsGrantAsync(Task<NodeResult> call) =>
            (await call.ConfigureAwait(false)).HandedOver ? NodeResult.Granted : new NodeResult(NodeReply.Denied);
    }

    private async Task ReleaseIfHandedAsync(Task<NodeResult> call, ILockNode node, Hold hold, string successorId)
    {
        InFlight.Enter();
        try
        {
            // An ended call's await goes on at once, and a release sends its commands before it first
            // waits: so the give-back is sent before this returns, before the waiter is resumed, and on
            // the node's connection runs ahead of any attempt the waiter then makes under the same id.
            // That is what makes it safe to give back a call that failed: its script may have run with
            // only the reply lost; where it did not, the give-back runs while the lock is not that
            // id's, and deletes nothing.
            var handedOver = call.IsCompleted
                ? !call.IsCompletedSuccessfully || (await call.ConfigureAwait(false)).HandedOver
                : await HandedOverAsync(call).ConfigureAwait(false);
            if (handedOver)
            {
                await UndoOneAsync(node, NodeResult.Granted, hold, successorId, (string.Empty, 0), ReleaseNotice.New(successorId)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Log.CleanupFailed(_logger, ex, hold.Key, node.Name);
        }
        finally
        {
            InFlight.Exit();
        }
    }

    /// <summary>
    /// Whether a handoff answered late landed. One that fails late counts as not: by then the waiter
    /// may have won the lock under the same id, which a give-back sent now could delete; so if its
    /// script did run, that hold stays the waiter's own late grant until its TTL.
    /// </summary>
    private static async Task<bool> HandedOverAsync(Task<NodeResult> call)
    {
        try
        {
            return (await call.ConfigureAwait(false)).HandedOver;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>A call the round did not wait for: it is logged if it fails or times out, as the round would have.</summary>
    private async Task LogIfFailedAsync(Task<NodeResult> bounded, string operation, string key)
    {
        var answer = await bounded.ConfigureAwait(false);
        if (answer.Reply == NodeReply.Failed)
        {
            Log.NodeFailed(_logger, answer.Error, operation, key, 1, _nodes.Count);
        }
    }

    public LockBackendException BackendException(string operation, Hold hold, RoundResult round) =>
        LockBackendException.NodesFailed($"{operation} lock '{hold.Key}'", _nodeNames, round.Failed, round.FirstError);

    /// <summary>
    /// The rule of the whole algorithm: the lock is held when a majority granted and time is left,
    /// counted from when the commands were sent. Returns how much time, or null when not held.
    /// </summary>
    private TimeSpan? ValidityIfWon(RoundResult round, TimeSpan ttl, long sentAt) => ValidityIf(round.MajorityGranted, ttl, sentAt);

    /// <summary>The rule above, where the majority is counted otherwise (a handoff: the nodes that handed over).</summary>
    private TimeSpan? ValidityIf(bool majority, TimeSpan ttl, long sentAt)
    {
        var validity = LockValidity.Compute(ttl, _time.GetElapsedTime(sentAt), _driftFactor);
        return majority && validity > TimeSpan.Zero ? validity : null;
    }

    private void EnsureCompatible()
    {
        for (var i = 0; i < _nodes.Count; i++)
        {
            var node = _nodes[i];
            try
            {
                node.EnsureCompatible();
            }
            catch (DistLockException ex)
            {
                Log.ServerTooOld(_logger, ex, node.Name);
                throw;
            }
        }
    }

    /// <summary>
    /// The release of one node (<paramref name="release"/>, a handoff or not), sent at once. Where the node's acquire had not answered when the
    /// round was decided, the release normally runs after it (one connection keeps the order), but a
    /// reconnection, a redirection or a NOSCRIPT resend may reorder them: so a release that finds
    /// nothing there waits for that acquire, and if it was a grant, the node's answer is that of a
    /// second release. Only then: a second release sent for every late grant could overtake the
    /// first, which would then find nothing; and a first answer of "not held" would count a node
    /// that did hold as one that did not.
    /// </summary>
    private Task<NodeResult> ReleaseBehind(Task<NodeResult>? acquiring, Task<NodeResult> release, ILockNode node, Hold hold, string id) =>
        acquiring is null ? release : ReleaseBehindAsync(acquiring, release, node, hold, id);

    private async Task<NodeResult> ReleaseBehindAsync(Task<NodeResult> acquiring, Task<NodeResult> release, ILockNode node, Hold hold, string id)
    {
        NodeResult first;
        try
        {
            first = await release.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // No answer: the round counts the node as failed; a late grant is still given back.
            _ = UndoIfGrantedAsync(node, acquiring, hold, id, turn: (string.Empty, 0));
            throw;
        }

        if (first.Reply == NodeReply.Granted)
        {
            return first;
        }

        if (await LateGrantAsync(acquiring, node, hold).ConfigureAwait(false) is null)
        {
            return first;
        }

        return await hold.ReleaseAsync(node, id, ReleaseNotice.New(id)).ConfigureAwait(false);
    }

    /// <summary>Releases one node's grant, or gives it back to the queue of <paramref name="turn"/> while that turn lasts, when it took the turn.</summary>
    private async Task UndoOneAsync(ILockNode node, NodeResult granted, Hold hold, string id, (string Queue, long EndsAt) turn, string notice)
    {
        var left = granted.TookTurn && turn.Queue.Length > 0 && turn.EndsAt != 0 ? _time.GetElapsedTime(_time.GetTimestamp(), turn.EndsAt) : TimeSpan.Zero;
        var result = await QuorumRound
            .RunAsync(
                [node],
                static (n, s) => s.left >= TimeSpan.FromMilliseconds(1)
                    ? s.hold.GiveBackAsync(n, s.id, s.queue, s.left, s.notice)
                    : s.hold.ReleaseAsync(n, s.id, s.notice),
                (hold, id, queue: turn.Queue, left, notice),
                stopWhenDecided: false,
                _nodeTimeout,
                _time)
            .ConfigureAwait(false);
        if (result.Failed > 0)
        {
            Log.CleanupFailed(_logger, result.FirstError, hold.Key, node.Name);
        }
    }

    private async Task LeaveLineAsync(ILockNode node, Hold hold, string queue, string notice)
    {
        try
        {
            await hold.LeaveAsync(node, queue, notice).WaitAsync(_nodeTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // It keeps its place there, as before the split.
            Log.CleanupFailed(_logger, ex, hold.Key, node.Name);
        }
    }

    private async Task UndoIfGrantedAsync(ILockNode node, Task<NodeResult> call, Hold hold, string id, (string Queue, long EndsAt) turn)
    {
        if (await LateGrantAsync(call, node, hold).ConfigureAwait(false) is { } granted)
        {
            await UndoOneAsync(node, granted, hold, id, turn, UndoNotice(turn.Queue, id)).ConfigureAwait(false);
        }
    }

    /// <summary>An acquire the round did not wait for, if it turned out a grant (logged: it is given back).</summary>
    private async Task<NodeResult?> LateGrantAsync(Task<NodeResult> call, ILockNode node, Hold hold)
    {
        NodeResult answer;
        try
        {
            answer = await call.ConfigureAwait(false);
        }
        catch (Exception)
        {
            return null; // The command failed on the node: nothing was taken there.
        }

        if (answer.Reply != NodeReply.Granted)
        {
            return null;
        }

        Log.LateGrantReleased(_logger, hold.Key, node.Name);
        return answer;
    }
}
