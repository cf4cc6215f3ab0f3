using Microsoft.Extensions.Logging;

namespace DistLock.Algorithm;

/// <summary>
/// Attempts until the lock is taken, the wait timeout passes, the retries run out, or the caller
/// cancels. A waiter does not poll: it sleeps until a release is announced or the holder's TTL
/// runs out, and polls at <c>RetryDelay</c> only while announcements cannot reach it. An outage
/// ends the loop at once with a <see cref="LockBackendException"/>: waiting out the timeout would
/// make it look like contention.
/// </summary>
internal sealed class AcquireLoop
{
    // PTTL is rounded to whole milliseconds: look again just after the key has surely expired.
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromMilliseconds(1);

    private readonly RedlockProtocol _protocol;
    private readonly WaitQueues _waiters;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _retryAfterWake;
    private readonly TimeSpan _handoffGrace;
    private readonly int _maxRetries;
    private readonly ILogger _logger;

    /// <param name="protocol">The Redlock protocol over the nodes (one node is the single-instance lock).</param>
    /// <param name="waiters">The local wait queues.</param>
    /// <param name="retryDelay">The longest pause between attempts where no wake can arrive, and after a split vote.</param>
    /// <param name="handoffGrace">How long a release keeps the lock reserved for the waiter it wakes.</param>
    /// <param name="maxRetries">Retries after the first attempt; -1 for no limit.</param>
    /// <param name="logger">Where to log.</param>
    public AcquireLoop(RedlockProtocol protocol, WaitQueues waiters, TimeSpan retryDelay, TimeSpan handoffGrace, int maxRetries, ILogger logger)
    {
        _retryAfterWake = handoffGrace / 4;
        _handoffGrace = handoffGrace;
        _protocol = protocol;
        _waiters = waiters;
        _retryDelay = retryDelay;
        _maxRetries = maxRetries;
        _logger = logger;
    }

    /// <param name="hold">What to take, on which resource.</param>
    /// <param name="id">The owner's lock id.</param>
    /// <param name="ttl">The hold's time to live.</param>
    /// <param name="timeout">How long to keep trying; zero makes one attempt; infinite never gives up on time.</param>
    /// <param name="cancellationToken">Stops waiting; an attempt in flight is undone when it lands.</param>
    /// <param name="closing">Cancelled when the manager closes: a caller that waits stops too (the first attempt does not wait).</param>
    /// <param name="maxRetries">This call's retry limit; null for the manager's.</param>
    public async Task<AcquireOutcome> RunAsync(Hold hold, string id, TimeSpan ttl, TimeSpan timeout, CancellationToken cancellationToken, CancellationToken closing = default, int? maxRetries = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var wait = new WaitClock(_protocol.Time, timeout, maxRetries ?? _maxRetries);
        var attempts = 0;

        // Uncontended (or try-once): go straight to the nodes, without the cost of a subscription,
        // unless this process already waits for the hold (then the newcomer queues behind, so local
        // waiters are served in order; a shared hold also if anyone of this process waits for it).
        AttemptResult? first = null;
        var key = hold.Key;
        if (timeout == TimeSpan.Zero || (hold.Shared ? !_waiters.HasMembers(key) : !_waiters.HasWaiters(key)))
        {
            attempts++;
            first = await AttemptAsync(hold, id, ttl, queue: null, stay: false, cancellationToken).ConfigureAwait(false);
            if (Decided(first, hold, attempts, wait) is { } outcome)
            {
                return outcome;
            }
        }

        // Only a caller that waits pays for the link to the manager's closing.
        using var linked = closing.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing) : null;
        cancellationToken = linked?.Token ?? cancellationToken;
        var queue = _waiters.Join(hold);
        var place = queue.Enqueue(id, ttl, offerable: CanHandOver(hold));
        var acquired = false;
        try
        {
            if (!await TakeTurnAsync(place.Value.Turn.Task, wait, cancellationToken).ConfigureAwait(false))
            {
                // Its time ran out behind a waiter of its own process, so it may never have asked: one
                // look of its own tells a busy lock from an outage, which must not read as contention
                // (and takes the lock if it is free after all).
                attempts++;
                var last = await AttemptAsync(hold, id, ttl, queue: null, stay: false, cancellationToken).ConfigureAwait(false);
                acquired = last.Acquired;
                return Decided(last, hold, attempts, wait) ?? GiveUp(key, attempts, wait, last.Round.Busy);
            }

            // Subscribed before the attempt that precedes waiting, so a wake in between is seen.
            await queue.MajoritySubscribed.ConfigureAwait(false);
            if (first is not null && wait.MaxRetries >= 0)
            {
                // A finite MaxRetries means "attempts, RetryDelay apart" (the seeds' meaning): the
                // pause comes before the next attempt, so none is spent on the re-check that closes
                // the race with subscribing. A release missed meanwhile costs at most that pause.
                var (_, handedFirst) = await SleepOfferedAsync(queue, place, queue.Snapshot().NextRelease, Pause(first, first.Round.Granted > 0, queue, wait), wait, cancellationToken, untilHeldFor: false)
                    .ConfigureAwait(false);
                if (handedFirst is not null)
                {
                    return HandedOver(handedFirst, ++attempts, queue, ttl, wait, out acquired);
                }
            }

            // The member before this one took the hold and kept the queue's place in line: the hold
            // is its sibling's, so this one waits for the wake instead of asking first.
            var (releases, nextRelease) = queue.Snapshot();
            var afterWake = false;
            if (hold.KeepsPlace && queue.TakeKeptPlace())
            {
                var (woken, handed) = await SleepOfferedAsync(queue, place, nextRelease, queue.HeldFor, wait, cancellationToken).ConfigureAwait(false);
                if (handed is not null)
                {
                    return HandedOver(handed, ++attempts, queue, ttl, wait, out acquired);
                }

                afterWake = woken && queue.Releases != releases;
            }

            while (true)
            {
                if (await TakeOfferBackAsync(queue, place).ConfigureAwait(false) is { } handedMeanwhile)
                {
                    return HandedOver(handedMeanwhile, ++attempts, queue, ttl, wait, out acquired);
                }

                (releases, nextRelease) = queue.Snapshot();
                attempts++;
                // More of this queue's waiters follow (after this one, or with it for a shared hold).
                var stay = (hold.KeepsPlace || hold.Shared) && queue.HasOthers(place);
                var result = await AttemptAsync(hold, id, ttl, queue, stay, cancellationToken).ConfigureAwait(false);
                if (Decided(result, hold, attempts, wait) is { } outcome)
                {
                    acquired = result.Acquired;
                    if (acquired && stay && hold.KeepsPlace)
                    {
                        queue.KeptPlace(ttl);
                    }
                    else if (acquired && stay)
                    {
                        queue.MemberLetIn();
                    }

                    return outcome;
                }

                var split = result.Round.Granted > 0;
                var woken = queue.Releases != releases;
                if (woken && !split)
                {
                    afterWake = true;
                    continue; // woken while we were asking
                }

                // An attempt made on a wake can overtake the release on the other nodes: they were
                // still held (or did not answer yet), and hand us the turn when the release gets
                // there. Their wakes carry the same notice as the first, so they are not counted
                // again and would not end a sleep: look again soon instead, once per wake. So too
                // when a node still had this waiter's own grant from such an attempt: the turn it
                // took there is being given back to the queue (RedlockProtocol.UndoAsync).
                var pause = woken || afterWake || result.Round.OwnLateGrant
                    ? RetryTiming.NextDelay(_retryAfterWake, wait.Remaining, Random.Shared)
                    : Pause(result, split, queue, wait);
                // Only a wake counts as one: the time to look again after the line's news ends the
                // sleep too, but needs no quick second look when refused. After a split round the
                // pause is all: a queue that gave its turns up has left the rival's lines (see
                // RedlockProtocol.UndoAsync), so no wake would end a sleep to the holder's TTL.
                var (wokenNow, handedNow) = await SleepOfferedAsync(queue, place, nextRelease, pause, wait, cancellationToken, untilHeldFor: !split).ConfigureAwait(false);
                if (handedNow is not null)
                {
                    return HandedOver(handedNow, ++attempts, queue, ttl, wait, out acquired);
                }

                afterWake = wokenNow && queue.Releases != releases;
            }
        }
        finally
        {
            var claimed = queue.Withdraw(place);
            queue.Leave(place);
            var leaving = _waiters.LeaveAsync(queue, acquired);
            if (!acquired)
            {
                // A release that claimed this waiter as it gave up may still hand it the hold: give that back.
                if (claimed is not null && await claimed.Outcome.ConfigureAwait(false) is { } unwanted)
                {
                    _ = AbandonAsync(Task.FromResult(unwanted), hold, id);
                }

                // A caller that gave up (timeout, cancellation, retries spent) and then looks again
                // must not find a turn handed to the queue it just left, nor part of a set it kept.
                // Awaited within what is left of the call's bound: when the node hung, the last
                // attempt already waited a node timeout out.
                await _protocol.WithinNodeTimeoutAsync(leaving, wait.LeftOfBound(_protocol.NodeTimeout)).ConfigureAwait(false);
                if (hold.HoldsWhileWaiting)
                {
                    await _protocol.WithinNodeTimeoutAsync(ReleaseKeptAsync(hold, id), wait.LeftOfBound(_protocol.NodeTimeout)).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Gives back what a set kept while it waited; counted as work in flight, as it may outlast the call.</summary>
    private async Task ReleaseKeptAsync(Hold hold, string id)
    {
        InFlight.Enter();
        try
        {
            await _protocol.ReleaseAsync(hold, id).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Whatever stays expires with its TTL.
            Log.CleanupFailed(_logger, ex, hold.Key, "all nodes");
        }
        finally
        {
            InFlight.Exit();
        }
    }

    private AcquireOutcome? Decided(AttemptResult result, Hold hold, int attempts, WaitClock wait)
    {
        if (result.Acquired)
        {
            return new AcquireOutcome(result, attempts, wait.Elapsed);
        }

        if (result.BackendError is ArgumentException rejected)
        {
            // A node refused the arguments (NodeResult.Rejected): the caller's mistake, not an outage.
            throw rejected;
        }

        if (result.BackendError is not null)
        {
            Log.AcquireBackendFailed(_logger, result.BackendError, hold.Key);
            throw _protocol.BackendException("acquire", hold, result.Round);
        }

        return (wait.MaxRetries >= 0 && attempts > wait.MaxRetries) || wait.Remaining <= TimeSpan.Zero
            ? GiveUp(hold.Key, attempts, wait, result.Round.Busy)
            : null;
    }

    private AcquireOutcome GiveUp(string key, int attempts, WaitClock wait, IReadOnlyList<string>? busy = null)
    {
        Log.AcquireGaveUp(_logger, key, attempts);
        return new AcquireOutcome(null, attempts, wait.Elapsed, busy);
    }

    /// <summary>
    /// How long to sleep unless a release is announced first: until the holder's key expires, or
    /// RetryDelay (drawn at random, so contenders do not collide again), whichever is sooner. With
    /// live notifications and unlimited retries only the holder's expiry counts, since a release
    /// wakes the waiter. A split vote (some nodes granted, no majority) always takes the sooner of
    /// the two: a rival that won elsewhere holds for a whole TTL, so it backs off; a crashed
    /// holder's keys, which nodes expire milliseconds apart, are about to go, so it looks again
    /// right after. Without notifications, or with a finite MaxRetries (the seeds' "N attempts,
    /// RetryDelay apart"), RetryDelay bounds every sleep.
    /// </summary>
    private TimeSpan Pause(AttemptResult result, bool split, WaitQueue queue, WaitClock wait)
    {
        var remaining = wait.Remaining;
        var notificationsLive = queue.NotificationsLive;
        var backoff = RetryTiming.NextDelay(_retryDelay, remaining, Random.Shared);
        if (result.HolderTtl is not { } holderTtl)
        {
            return backoff;
        }

        var untilExpiry = holderTtl + ExpiryMargin;
        var sleepToExpiry = !split && notificationsLive && wait.MaxRetries < 0;
        var pause = sleepToExpiry || untilExpiry < backoff ? untilExpiry : backoff;
        return remaining is { } left && left < pause ? left : pause;
    }

    private async Task<bool> TakeTurnAsync(Task turn, WaitClock wait, CancellationToken cancellationToken)
    {
        // A timer can fire a moment before it is due (the system's count whole milliseconds): the
        // turn is waited for until the deadline has passed by the wait's own clock.
        while (!turn.IsCompleted)
        {
            if (wait.Remaining is not { } left)
            {
                await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
                break;
            }

            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await turn.WaitAsync(WaitClock.WholeMilliseconds(left), _protocol.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Look at the clock again.
            }
        }

        return true;
    }

    /// <returns>True when woken (or told to look again by the line's news); false when the pause ran out.</returns>
    private async Task<bool> SleepUntilReleaseAsync(Task nextRelease, TimeSpan pause, CancellationToken cancellationToken)
    {
        try
        {
            await nextRelease.WaitAsync(WaitClock.WholeMilliseconds(pause), _protocol.Time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            // The holder's TTL (or RetryDelay) ran out without an announcement: look again.
            return false;
        }
    }

    /// <summary>
    /// Sleeps like <see cref="SleepUntilReleaseAsync"/>, and on past the pause while the line's news
    /// says the hold is taken for longer: a holder that took its turn extends the sleep, so a waiter
    /// does not ask just to hear the same (only while it may still wait).
    /// </summary>
    private async Task<bool> SleepAsync(WaitQueue queue, Task nextRelease, TimeSpan pause, WaitClock wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await SleepUntilReleaseAsync(nextRelease, pause, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            pause = queue.HeldFor;
            if (pause <= TimeSpan.Zero || wait.Remaining is { } left && left <= TimeSpan.Zero)
            {
                return false;
            }

            pause = wait.Remaining is { } remaining && remaining < pause + ExpiryMargin ? remaining : pause + ExpiryMargin;
        }
    }

    private Task<AttemptResult> AttemptAsync(Hold hold, string id, TimeSpan ttl, WaitQueue? queue, bool stay, CancellationToken cancellationToken)
    {
        // The turn a wake handed over ends a grace after it (see RedlockProtocol.UndoAsync).
        var turnEndsAt = queue?.LastWakeAt is > 0 and var wokenAt ? wokenAt + _protocol.Time.Ticks(_handoffGrace) : 0;
        // A wake during a Redlock attempt ends a split vote that only a hung node could settle.
        // The wake's notice names the holder whose release handed the queue its turn: a node still held
        // by another is a rival's turn, which decides how a split round gives its turns back.
        var (endSplitOn, wakeNotice) = queue is not null && _protocol.Nodes.Count > 1 ? (queue.NextWake, queue.LastNotice) : default;
        var attempt = _protocol.TryAcquireOnceAsync(hold, id, ttl, queue?.Id ?? string.Empty, stay, turnEndsAt, endSplitOn, wakeNotice);
        return cancellationToken.CanBeCanceled ? AttemptCancellablyAsync(attempt, hold, id, cancellationToken) : attempt;
    }

    /// <summary>
    /// Releases a hold of this loop's manager. A waiter of this manager asleep at the head of the
    /// hold's queue is offered the hold (see <see cref="Successor"/>): where the turn is its queue's,
    /// each node gives it the hold in the release itself.
    /// </summary>
    public Task<bool> ReleaseAsync(Hold hold, string id, LateGrants? lateGrants)
    {
        var successor = CanHandOver(hold) ? _waiters.ClaimSuccessor(hold) : null;
        return _protocol.ReleaseAsync(hold, id, lateGrants, successor);
    }

    /// <summary>Whether a release may hand <paramref name="hold"/> straight to a local waiter on every node.</summary>
    private bool CanHandOver(Hold hold)
    {
        foreach (var node in _protocol.Nodes)
        {
            if (!hold.CanHandOver(node))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Sleeps like <see cref="SleepAsync"/> (or, without <paramref name="untilHeldFor"/>, like
    /// <see cref="SleepUntilReleaseAsync"/>); an offerable waiter sleeps offered to this manager's
    /// releases (see <see cref="Successor"/>). A release that claims it ends the sleep with the hold,
    /// or, when the turn went elsewhere, lets it sleep on for the rest of the pause.
    /// </summary>
    /// <returns>Whether it was woken, and the hold when a release handed it over.</returns>
    private async Task<(bool Woken, (AttemptResult Won, bool Stay)? Handed)> SleepOfferedAsync(
        WaitQueue queue, LinkedListNode<WaitPlace> place, Task nextRelease, TimeSpan pause, WaitClock wait, CancellationToken cancellationToken, bool untilHeldFor = true)
    {
        if (!place.Value.Offerable)
        {
            return (await SleepOnceAsync(nextRelease).ConfigureAwait(false), null);
        }

        var time = _protocol.Time;
        var until = time.GetTimestamp() + time.Ticks(pause);
        while (true)
        {
            var offer = queue.Offer(place);
            var woken = await SleepOnceAsync(Task.WhenAny(nextRelease, offer.Outcome)).ConfigureAwait(false);
            if (await TakeOfferBackAsync(queue, place).ConfigureAwait(false) is { } handed)
            {
                return (true, handed);
            }

            if (!offer.Outcome.IsCompleted || !offer.Answered)
            {
                // Not claimed; or claimed by a release the node did not answer in time: look again.
                return (woken || offer.Outcome.IsCompleted, null);
            }

            // Claimed by a release that did not hand it over (the turn is another queue's, or the
            // release failed): sleep on, for what is left of the pause.
            pause = time.GetElapsedTime(time.GetTimestamp(), until);
            if (nextRelease.IsCompleted || pause <= TimeSpan.Zero)
            {
                return (nextRelease.IsCompleted, null);
            }
        }

        Task<bool> SleepOnceAsync(Task wake) => untilHeldFor
            ? SleepAsync(queue, wake, pause, wait, cancellationToken)
            : SleepUntilReleaseAsync(wake, pause, cancellationToken);
    }

    /// <summary>Before asking a node itself: the waiter's offer back, or, when a release claimed it, that release's outcome: the hold if it was handed over.</summary>
    private static async Task<(AttemptResult Won, bool Stay)?> TakeOfferBackAsync(WaitQueue queue, LinkedListNode<WaitPlace> place) =>
        queue.Withdraw(place) is { } claimed && await claimed.Outcome.ConfigureAwait(false) is { } won ? (won, claimed.Stay) : null;

    /// <summary>A release handed the hold to this waiter: it took it as an attempt would have (see <see cref="Hold.KeepsPlace"/>).</summary>
    private static AcquireOutcome HandedOver((AttemptResult Won, bool Stay)? handed, int attempts, WaitQueue queue, TimeSpan ttl, WaitClock wait, out bool acquired)
    {
        acquired = true;
        if (handed!.Value.Stay)
        {
            // As after an attempt with stay: the queue kept its place, and its next waiter knows.
            queue.KeptPlace(ttl);
        }

        return new AcquireOutcome(handed.Value.Won, attempts, wait.Elapsed);
    }

    private async Task<AttemptResult> AttemptCancellablyAsync(Task<AttemptResult> attempt, Hold hold, string id, CancellationToken cancellationToken)
    {
        try
        {
            return await attempt.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = AbandonAsync(attempt, hold, id);
            throw;
        }
    }

    /// <summary>
    /// The acquisitions of this loop's manager and the clean-ups they leave behind: the manager counts
    /// its calls in, this loop the attempts it abandons, the protocol the handoffs it gives back
    /// (see <see cref="InFlightWork"/>).
    /// </summary>
    public InFlightWork InFlight => _protocol.InFlight;

    /// <summary>The caller stopped waiting for an attempt in flight: if it lands, give the lock back.</summary>
    private async Task AbandonAsync(Task<AttemptResult> attempt, Hold hold, string id)
    {
        InFlight.Enter();
        try
        {
            var result = await attempt.ConfigureAwait(false);
            if (result.Acquired || hold.HoldsWhileWaiting)
            {
                await _protocol.ReleaseAsync(hold, id, LateGrants.Of(result.Round)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Log.CleanupFailed(_logger, ex, hold.Key, "all nodes");
        }
        finally
        {
            InFlight.Exit();
        }
    }
}
