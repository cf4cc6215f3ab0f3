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

    /// <summary>One attempt: ask every node, and undo the partial grants when it fails.</summary>
    /// <param name="target">The lock key and mode.</param>
    /// <param name="id">The owner's lock id (the value of the lock key).</param>
    /// <param name="ttl">The lock's time to live.</param>
    /// <param name="waiterId">The waiting queue's id, which keeps its place in line on a refusal; "" for none.</param>
    public async Task<AttemptResult> TryAcquireOnceAsync(LockTarget target, string id, TimeSpan ttl, string waiterId = "")
    {
        EnsureCompatible();
        var sentAt = _time.GetTimestamp();
        var round = await QuorumRound
            .RunAsync(_nodes, static (node, s) => node.TryAcquireAsync(s.target, s.id, s.ttl, s.waiterId), (target, id, ttl, waiterId), stopWhenDecided: true, _nodeTimeout, _time)
            .ConfigureAwait(false);
        var fenceUnavailable = false;
        if (ValidityIfWon(round, ttl, sentAt) is not null)
        {
            // Agreeing on the token may take a round trip, so validity is counted again after it.
            var fence = AgreedFence(round) ?? await AgreeOnFenceAsync(round, target).ConfigureAwait(false);
            if (fence is { } token && ValidityIfWon(round, ttl, sentAt) is { } validity)
            {
                return AttemptResult.Success(validity, sentAt, token, round);
            }

            fenceUnavailable = fence is null;
        }

        var failed = round.BackendUnavailable || fenceUnavailable
            ? AttemptResult.Unavailable(sentAt, round)
            : AttemptResult.Busy(sentAt, round);
        await UndoAsync(failed, target, id).ConfigureAwait(false);
        return failed;
    }

    /// <summary>
    /// The fencing token of a won round: the highest token its nodes issued. It must also be the
    /// floor on a majority of the nodes that granted, because a later holder's majority includes
    /// one of them and takes its key there only after ours is gone, so that node then issues a
    /// higher token. Nodes that issued the highest token already have that floor; when they are
    /// fewer than a majority (the counters drifted apart after a node failed or restarted), the
    /// others that granted are raised to it first (<see cref="AgreeOnFenceAsync"/>). See docs/safety.md.
    /// </summary>
    /// <returns>The token, or null when some nodes must be raised to it first.</returns>
    private long? AgreedFence(RoundResult round)
    {
        var (token, atToken) = HighestFence(round);
        return atToken >= LockValidity.QuorumSize(_nodes.Count) ? token : null;
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
    /// Raises the granting nodes that issued less than the highest token to it, so that a majority
    /// has it as their floor (see <see cref="AgreedFence"/>).
    /// </summary>
    /// <returns>The token, or null when the floor could not be set on a majority.</returns>
    private async Task<long?> AgreeOnFenceAsync(RoundResult round, LockTarget target)
    {
        var (token, atToken) = HighestFence(round);
        var behind = new List<ILockNode>();
        for (var i = 0; i < round.Nodes.Count; i++)
        {
            if (round.Answers[i] is { Reply: NodeReply.Granted } answer)
            {
                if (answer.Fence < token)
                {
                    behind.Add(round.Nodes[i]);
                }
            }
            else
            {
                // Not needed for this token, but raising the others too brings the counters back
                // in step, so that later rounds need no extra round trip.
                _ = RaiseQuietlyAsync(round.Nodes[i], target, token);
            }
        }

        var raised = await QuorumRound
            .RunAsync(behind, static (node, s) => node.RaiseFenceAsync(s.key, s.token), (key: target.Key, token), stopWhenDecided: false, _nodeTimeout, _time)
            .ConfigureAwait(false);
        return atToken + raised.Granted >= LockValidity.QuorumSize(_nodes.Count) ? token : null;
    }

    /// <summary>Awaits <paramref name="work"/> for at most the node timeout; what is left carries on unobserved.</summary>
    public async Task WithinNodeTimeoutAsync(Task work)
    {
        try
        {
            await work.WaitAsync(_nodeTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Bounded like every other call to a node; the work finishes (or fails) on its own.
        }
    }

    private async Task RaiseQuietlyAsync(ILockNode node, LockTarget target, long token)
    {
        try
        {
            await node.RaiseFenceAsync(target.Key, token).WaitAsync(_nodeTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.NodeFailed(_logger, ex, "fence raise", target.Key, 1, _nodes.Count);
        }
    }

    /// <summary>
    /// Gives back what a failed attempt took: the nodes that granted are released before the
    /// attempt returns. A node that has not answered (or did not answer in time) is released if and
    /// when its late answer is a grant, in the background: a paused or slow node cannot keep a key
    /// that nobody owns, and a hung minority node does not cost every refused attempt the node timeout.
    /// </summary>
    private async Task UndoAsync(AttemptResult attempt, LockTarget target, string id)
    {
        var round = attempt.Round;
        var notice = ReleaseNotice.New(id);
        List<Task>? undo = null;
        for (var i = 0; i < round.Nodes.Count; i++)
        {
            switch (round.Answers[i]?.Reply)
            {
                case NodeReply.Granted:
                    (undo ??= []).Add(ReleaseOneAsync(round.Nodes[i], target, id, notice));
                    break;
                case null or NodeReply.Failed:
                    _ = ReleaseIfGrantedAsync(round.Nodes[i], round.Calls[i], target, id);
                    break;
            }
        }

        if (undo is not null)
        {
            await Task.WhenAll(undo).ConfigureAwait(false);
        }
    }

    /// <summary>Releases a lock on every node, and again on nodes of its winning round that grant late (<paramref name="lateGrants"/>).</summary>
    /// <returns>True when a majority still held it and ended the hold it.</returns>
    /// <exception cref="LockBackendException">A majority of nodes failed.</exception>
    public Task<bool> ReleaseAsync(LateGrants? lateGrants, LockTarget target, string id)
    {
        ReleaseLateGrants(lateGrants, target, id);
        return ReleaseAsync(target, id);
    }

    /// <summary>
    /// Call before releasing on every node: a node whose acquire is still in flight may grant after
    /// that release has passed it, so it is released again if and when it grants. A call that has
    /// already completed needs nothing more: its hold, if any, is there for the release to delete.
    /// </summary>
    private void ReleaseLateGrants(LateGrants? lateGrants, LockTarget target, string id)
    {
        foreach (var (node, call) in lateGrants?.Pending ?? [])
        {
            if (!call.IsCompleted)
            {
                _ = ReleaseIfGrantedAsync(node, call, target, id);
            }
        }
    }

    /// <summary>Extends on every node; true when a majority extended in time.</summary>
    /// <returns>The new validity, counted from the returned send time, or null when the lock is lost.</returns>
    /// <exception cref="LockBackendException">Too many nodes failed to tell.</exception>
    public async Task<(TimeSpan Validity, long SentAt)?> ExtendAsync(LockTarget target, string id, TimeSpan ttl)
    {
        EnsureCompatible();
        var sentAt = _time.GetTimestamp();
        var round = await QuorumRound
            .RunAsync(_nodes, static (node, s) => node.ExtendAsync(s.target, s.id, s.ttl), (target, id, ttl), stopWhenDecided: true, _nodeTimeout, _time)
            .ConfigureAwait(false);
        if (ValidityIfWon(round, ttl, sentAt) is { } validity)
        {
            return (validity, sentAt);
        }

        if (round.BackendUnavailable)
        {
            throw BackendException("extend", target, round);
        }

        return null;
    }

    /// <summary>
    /// Releases on every node; returns as soon as the outcome is decided (a majority ended the
    /// hold, or no majority can), so a hung minority node does not cost every release the node
    /// timeout. The calls to the nodes that had not answered go on in the background, bounded by
    /// the node timeout: they were sent, so a node that wakes up runs them and deletes its key.
    /// </summary>
    /// <returns>True when a majority still held it and ended the hold.</returns>
    /// <exception cref="LockBackendException">A majority of nodes failed.</exception>
    public async Task<bool> ReleaseAsync(LockTarget target, string id)
    {
        var notice = ReleaseNotice.New(id);
        var round = await QuorumRound
            .RunAsync(_nodes, static (node, s) => node.ReleaseAsync(s.target, s.id, s.notice), (target, id, notice), stopWhenDecided: true, _nodeTimeout, _time)
            .ConfigureAwait(false);
        if (round.BackendUnavailable)
        {
            throw BackendException("release", target, round);
        }

        for (var i = 0; i < round.Nodes.Count; i++)
        {
            if (round.Answers[i] is null)
            {
                _ = LogIfFailedAsync(round.Bounded[i], "release", target.Key);
            }
        }

        if (round.Failed > 0)
        {
            Log.NodeFailed(_logger, round.FirstError, "release", target.Key, round.Failed, _nodes.Count);
        }

        return round.MajorityGranted;
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

    public LockBackendException BackendException(string operation, LockTarget target, RoundResult round) =>
        LockBackendException.NodesFailed($"{operation} lock '{target.Key}'", _nodeNames, round.Failed, round.FirstError);

    /// <summary>
    /// The rule of the whole algorithm: the lock is held when a majority granted and time is left,
    /// counted from when the commands were sent. Returns how much time, or null when not held.
    /// </summary>
    private TimeSpan? ValidityIfWon(RoundResult round, TimeSpan ttl, long sentAt)
    {
        var validity = LockValidity.Compute(ttl, _time.GetElapsedTime(sentAt), _driftFactor);
        return round.MajorityGranted && validity > TimeSpan.Zero ? validity : null;
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

    private async Task ReleaseOneAsync(ILockNode node, LockTarget target, string id, string notice)
    {
        var result = await QuorumRound
            .RunAsync([node], static (n, s) => n.ReleaseAsync(s.target, s.id, s.notice), (target, id, notice), stopWhenDecided: false, _nodeTimeout, _time)
            .ConfigureAwait(false);
        if (result.Failed > 0)
        {
            Log.CleanupFailed(_logger, result.FirstError, target.Key, node.Name);
        }
    }

    private async Task ReleaseIfGrantedAsync(ILockNode node, Task<NodeResult> call, LockTarget target, string id)
    {
        NodeResult late;
        try
        {
            late = await call.ConfigureAwait(false);
        }
        catch (Exception)
        {
            return; // The command failed on the node: nothing was taken there.
        }

        if (late.Reply == NodeReply.Granted)
        {
            Log.LateGrantReleased(_logger, target.Key, node.Name);
            await ReleaseOneAsync(node, target, id, ReleaseNotice.New(id)).ConfigureAwait(false);
        }
    }
}
