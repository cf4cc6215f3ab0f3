namespace DistLock;

/// <summary>
/// One term of leadership, from the moment a candidate won the election until it ends: lost (its
/// lease could not be kept), resigned, disposed, or its manager shut down. Work done as the leader
/// watches <see cref="Lost"/> and stamps its writes with <see cref="FencingToken"/>, so that a
/// deposed leader's late writes are refused (<see cref="FencedRedisStore"/>). Disposing a term resigns it.
/// </summary>
public sealed class LeadershipTerm : IAsyncDisposable
{
    private readonly LeaderElection _election;
    private readonly LockHandle _handle;
    private readonly CancellationTokenSource _ended;

    internal LeadershipTerm(LeaderElection election, LockHandle handle, long fencingToken, DateTimeOffset since)
    {
        _election = election;
        _handle = handle;
        FencingToken = fencingToken;
        Since = since;
        // Ended, not only lost: a manager disposed with AutoReleaseOnDispose releases the lease,
        // which is no loss for a lock but is the end of a term.
        _ended = CancellationTokenSource.CreateLinkedTokenSource(handle.EndedToken);
    }

    /// <summary>The election's name.</summary>
    public string Name => _handle.Resource;

    /// <summary>This leader's holder id, as <see cref="LeaderInfo.HolderId"/> shows it to others.</summary>
    public string HolderId => _handle.HolderId;

    /// <summary>
    /// The term's fencing token: greater than the token of every earlier term of this election, so
    /// a store that keeps the highest token it has seen refuses the writes of any earlier leader.
    /// </summary>
    public long FencingToken { get; }

    /// <summary>When the term began, on the manager's clock.</summary>
    public DateTimeOffset Since { get; }

    /// <summary>
    /// Cancelled the moment the term ends: the lease was lost (refused, expired, or this process was
    /// paused past it), the term was resigned or disposed, or the manager was disposed. Reading it
    /// judges the lease on the clock first, so a leader that was paused past its lease sees it
    /// cancelled at its first look after resuming, before it acts again. Callbacks registered on it
    /// should not throw.
    /// </summary>
    public CancellationToken Lost
    {
        get
        {
            if (_handle.State != LockState.Held)
            {
                End();
            }

            return _ended.Token;
        }
    }

    /// <summary>True until the term ends (see <see cref="Lost"/>).</summary>
    public bool IsActive => !Lost.IsCancellationRequested;

    /// <summary>
    /// Ends the term: <see cref="Lost"/> fires first, so the leader's work stops, then the lock is
    /// released, which wakes the next candidate in line at once.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the release's answer; the term has ended either way.</param>
    /// <returns>
    /// True when this call released the lease; false when the lease was no longer this term's (resigned
    /// before, or lost and gone from Redis).
    /// </returns>
    /// <exception cref="LockBackendException">
    /// Redis did not answer the release: the lease then runs out on its own. A term already lost is
    /// released too (its key may still be there), so this can come after <see cref="Lost"/> fired.
    /// </exception>
    public Task<bool> ResignAsync(CancellationToken cancellationToken = default)
    {
        End();
        return _handle.ReleaseAsync(cancellationToken);
    }

    /// <summary>Resigns the term (see <see cref="ResignAsync"/>); never throws: a release that fails leaves the lease to run out.</summary>
    public ValueTask DisposeAsync()
    {
        End();
        return _handle.DisposeAsync();
    }

    /// <summary>Completes when the term has ended.</summary>
    internal async Task WaitForEndAsync(CancellationToken cancellationToken)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = Lost.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), ended).ConfigureAwait(false);
        await ended.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void End()
    {
        if (!_ended.IsCancellationRequested)
        {
            _ended.Cancel();
            _election.OnTermEnded(this);
        }
    }
}
