using System.Runtime.CompilerServices;

namespace DistLock;

/// <summary>
/// An election per name: candidates in any number of processes campaign, one of them leads at a
/// time, and the others wait in the lock's line (woken by the leader's release, never polling)
/// until it resigns, or its lease runs out when it crashed. Each term carries a token that is
/// cancelled when leadership ends and a fencing token that rises with every term. Made by
/// <see cref="LeaderElectionExtensions.CreateElection"/>; the election named <c>"reports"</c> is
/// the lock <c>"reports"</c>, so <c>distlock status reports</c> shows its leader.
/// </summary>
/// <example>
/// <code>
/// await using var election = locks.CreateElection("reports");
/// await foreach (var term in election.TermsAsync(stoppingToken))
/// {
///     await using (term)
///     {
///         await RunReportsAsync(term.FencingToken, term.Lost); // stops when leadership ends
///     }
/// }
/// </code>
/// </example>
public sealed class LeaderElection : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryBackoff = TimeSpan.FromMilliseconds(100);

    private readonly ILockManager _locks;
    private readonly LeaderElectionOptions _options;
    private readonly string _label;
    private readonly TimeProvider _clock;
    private readonly CancellationTokenSource _closed = new();
    private readonly SemaphoreSlim _campaign = new(1, 1);
    private LeadershipTerm? _term;

    internal LeaderElection(ILockManager locks, string name, LeaderElectionOptions options, string label, TimeProvider clock)
    {
        _locks = locks;
        Name = name;
        _options = options;
        _label = label;
        _clock = clock;
    }

    /// <summary>The election's name (the name of its lock).</summary>
    public string Name { get; }

    /// <summary>True while this candidate holds a term that has not ended.</summary>
    public bool IsLeader => Volatile.Read(ref _term) is { } term && term.IsActive;

    /// <summary>
    /// Campaigns until this candidate leads, and returns its term. Candidates are served in the order
    /// they came; while Redis cannot be reached the campaign goes on, pausing between tries (see
    /// <see cref="LeaderElectionOptions.MaxRetryBackoff"/>). While this candidate already leads, it
    /// returns the current term.
    /// </summary>
    /// <param name="cancellationToken">Stops campaigning; nothing stays held.</param>
    /// <returns>The new term (or the current one).</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The election was disposed.</exception>
    public async Task<LeadershipTerm> WaitForLeadershipAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_closed.IsCancellationRequested, this);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        try
        {
            // One campaign at a time: a second one would queue behind this candidate's own lock.
            await _campaign.WaitAsync(stop.Token).ConfigureAwait(false);
            try
            {
                return Volatile.Read(ref _term) is { IsActive: true } current ? current : await CampaignAsync(stop.Token).ConfigureAwait(false);
            }
            finally
            {
                _campaign.Release();
            }
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(LeaderElection), "The election was disposed while campaigning.");
        }
    }

    /// <summary>
    /// This candidate's terms, one after another: each is returned when this candidate wins, and the
    /// next campaign starts when the caller asks for the next term and the current one has ended
    /// (resign or dispose it to move on; a term still active is waited out). Ends when the election
    /// is disposed.
    /// </summary>
    /// <param name="cancellationToken">Stops campaigning and waiting.</param>
    /// <returns>The terms, as this candidate wins them.</returns>
    public async IAsyncEnumerable<LeadershipTerm> TermsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!_closed.IsCancellationRequested)
        {
            LeadershipTerm term;
            try
            {
                term = await WaitForLeadershipAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                yield break;
            }

            yield return term;
            await term.WaitForEndAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Who leads now (any candidate, this one included), or null while nobody does.</summary>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>The leader, or null.</returns>
    /// <exception cref="LockBackendException">Redis did not answer.</exception>
    public async Task<LeaderInfo?> GetLeaderAsync(CancellationToken cancellationToken = default)
    {
        var lockInfo = await _locks.InspectAsync(Name, cancellationToken).ConfigureAwait(false);
        // While a resignation hands the lock to the next candidate, its value is that candidate's
        // reservation, not a leader's id, and its last token is the ended term's.
        return lockInfo is { HolderId: { } holder, HandingOver: 0 }
            ? new LeaderInfo(holder, lockInfo.HolderLabel, lockInfo.HeldSince, lockInfo.LastFencingToken, lockInfo.RemainingTtl)
            : null;
    }

    /// <summary>Stops campaigning (a pending <see cref="WaitForLeadershipAsync"/> throws <see cref="ObjectDisposedException"/>) and resigns the current term.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        await _closed.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _term) is { } term)
        {
            await term.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal void OnTermEnded(LeadershipTerm term) => Interlocked.CompareExchange(ref _term, null, term);

    private async Task<LeadershipTerm> CampaignAsync(CancellationToken cancellationToken)
    {
        var backoff = FirstRetryBackoff;
        while (true)
        {
            LockHandle? handle = null;
            try
            {
                handle = await _locks.AcquireAsync(
                    new LockRequest(Name)
                    {
                        HolderId = HolderValue.New(_label, _clock),
                        Ttl = _options.Ttl,
                        Timeout = Timeout.InfiniteTimeSpan,
                        AutoExtend = true,
                        MaxHoldTime = TimeSpan.MaxValue,
                        MaxRetries = -1, // a finite limit would make the campaign poll: it waits in line, woken by the release
                    },
                    cancellationToken).ConfigureAwait(false);

                // The token is taken while the lock is held, so it is above every earlier term's.
                var fencingToken = await handle.GetFencingTokenAsync(cancellationToken).ConfigureAwait(false);
                var term = new LeadershipTerm(this, handle, fencingToken, _clock.GetUtcNow());
                Volatile.Write(ref _term, term);
                if (_closed.IsCancellationRequested)
                {
                    // Disposed while winning: DisposeAsync may have looked before the term existed.
                    await term.DisposeAsync().ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                return term;
            }
            catch (Exception ex) when (ex is LockBackendException or LockLostException or LockTimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // Redis unreachable, the new lease lost before its token, or a manager whose
                // MaxRetries ran out: campaign again, pausing only when Redis did not answer.
                if (handle is not null)
                {
                    await handle.DisposeAsync().ConfigureAwait(false);
                }

                if (ex is LockBackendException)
                {
                    var pause = TimeSpan.FromTicks((long)(backoff.Ticks * (0.5 + (Random.Shared.NextDouble() / 2))));
                    await Task.Delay(pause, _clock, cancellationToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxRetryBackoff.Ticks));
                }
            }
            catch
            {
                if (handle is not null)
                {
                    await handle.DisposeAsync().ConfigureAwait(false);
                }

                throw;
            }
        }
    }
}
