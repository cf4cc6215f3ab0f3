namespace DistLock.Algorithm;

/// <summary>
/// The local waiters for one hold in one manager: a FIFO line in which only the head talks to the
/// nodes (for a shared hold, every member goes at once), one place in the hold's line of waiters,
/// and one subscription per node to its wake channel and its line's news. A release wakes the first
/// live queue in line; everyone else in line hears when that turn passes on if it is not taken, so a
/// queue that does not take its turn (stalled, dead) costs the others one grace.
/// </summary>
internal sealed class WaitQueue
{
    // Redis expires a key a millisecond after its PX runs out at the latest; the news comes after the
    // reservation was set, so this margin is enough to find it gone.
    private static readonly TimeSpan NewsMargin = TimeSpan.FromMilliseconds(2);

    private readonly object _sync = new();
    private readonly IReadOnlyList<ILockNode> _nodes;
    private readonly LinkedList<WaitPlace> _line = new();
    private readonly TimeProvider _time;
    private TaskCompletionSource _released = NewSignal();
    private CancellationTokenSource? _nextWake;
    private long _releases;
    private string? _lastNotice;
    private SerialTimer? _lookAgain;
    private long _heldUntil;
    private long _lastWakeAt;
    private long _keptPlaceAt = -1;
    private bool _closed;
    private bool _idle;
    private readonly INodeSubscription?[] _subscribed;
    private readonly TaskCompletionSource _majoritySubscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _subscribeAnswers;

    /// <param name="nodes">The nodes.</param>
    /// <param name="hold">What the queue waits for.</param>
    /// <param name="subscribeTimeout">How long subscribing may take.</param>
    /// <param name="time">The clock.</param>
    public WaitQueue(IReadOnlyList<ILockNode> nodes, Hold hold, TimeSpan subscribeTimeout, TimeProvider time)
    {
        _nodes = nodes;
        Hold = hold;
        _time = time;
        Id = hold.NewQueueId();
        _subscribed = new INodeSubscription?[nodes.Count];
        Subscriptions = SubscribeAllAsync(subscribeTimeout);
    }

    public Hold Hold { get; }

    /// <summary>The queue's name in the registry: the hold's key, apart for shared holds (readers queue apart from writers).</summary>
    public string RegistryKey => RegistryKeyOf(Hold);

    /// <summary>Called once, when a queue of a shared hold is first woken: later members then queue anew (see <see cref="WaitQueues.Join"/>).</summary>
    public Action<WaitQueue>? Sealed { get; set; }

    public static string RegistryKeyOf(Hold hold) => hold.Shared ? hold.Key + "\u0001shared" : hold.Key;

    /// <summary>This queue's name in the hold's line of waiters and in its wake channel.</summary>
    public string Id { get; }

    /// <summary>Members of the line plus callers about to join; guarded by the registry.</summary>
    public int Members { get; set; }

    /// <summary>The timer that closes the queue when it stays without members; guarded by the registry.</summary>
    public SerialTimer? Linger { get; set; }

    /// <summary>One subscription per node; null where the node could not subscribe.</summary>
    public Task<INodeSubscription?[]> Subscriptions { get; }

    /// <summary>True when a wake would reach this queue: at least one node's subscription is up.</summary>
    public bool NotificationsLive
    {
        get
        {
            for (var i = 0; i < _subscribed.Length; i++)
            {
                if (Volatile.Read(ref _subscribed[i]) is { IsActive: true })
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Completes when a majority of the nodes answered the subscribe (subscribed or failed): a
    /// release is announced by every node, so that many hear one, and a hung minority node does not
    /// keep a new waiter a subscribe timeout.
    /// </summary>
    public Task MajoritySubscribed => _majoritySubscribed.Task;

    public long Releases => Interlocked.Read(ref _releases);

    /// <summary>
    /// Cancelled at the next wake (or look again), for a call that must hear of it while it runs: a
    /// token, not a task, so that the call can drop its registration when done (a waiter may make
    /// many attempts between two wakes).
    /// </summary>
    public CancellationToken NextWake
    {
        get
        {
            lock (_sync)
            {
                return (_nextWake ??= new CancellationTokenSource()).Token;
            }
        }
    }

    /// <summary>
    /// When a release last woke the queue (a timestamp of the clock; 0 before the first): a turn it
    /// handed over was reserved just before, for the grace, so it ends by this plus the grace.
    /// </summary>
    public long LastWakeAt => Interlocked.Read(ref _lastWakeAt);

    /// <summary>The notice of the release that last woke the queue (it names the releaser), or null.</summary>
    public string? LastNotice => Volatile.Read(ref _lastNotice);

    /// <summary>How long the hold is taken for, as the line's news said (or a member of this queue took it); zero when unknown.</summary>
    public TimeSpan HeldFor => _time.GetElapsedTime(_time.GetTimestamp(), Interlocked.Read(ref _heldUntil)) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    /// <summary>
    /// Marks the queue as kept without members (its last one took the hold), or as in use again.
    /// An idle queue is in nobody's line, so a wake that reaches it anyway is passed on.
    /// </summary>
    public void SetIdle(bool idle)
    {
        lock (_sync)
        {
            _idle = idle;
            StopLookingAgain();
        }
    }

    /// <summary>
    /// Joins the end of the line; the returned place's <see cref="WaitPlace.Turn"/> completes when it is
    /// its turn, and then an offerable waiter is offered to this manager's releases (see <see cref="Offer"/>).
    /// </summary>
    public LinkedListNode<WaitPlace> Enqueue(string id, TimeSpan ttl, bool offerable)
    {
        lock (_sync)
        {
            var place = _line.AddLast(new WaitPlace(id, ttl, offerable));
            if (_line.First == place)
            {
                TakeTurn(place);
            }
            else if (Hold.Shared)
            {
                place.Value.Turn.TrySetResult();
            }

            return place;
        }
    }

    /// <summary>Leaves the line; when the head leaves, the next waiter becomes the head.</summary>
    public void Leave(LinkedListNode<WaitPlace> place)
    {
        lock (_sync)
        {
            var wasHead = _line.First == place;
            _line.Remove(place);
            if (wasHead && _line.First is { } next)
            {
                TakeTurn(next);
            }
        }
    }

    /// <summary>
    /// The head's turn: it is offered at once, so that the release of the sibling that holds can hand
    /// it the hold before its continuation has even run; call under the lock.
    /// </summary>
    private void TakeTurn(LinkedListNode<WaitPlace> head)
    {
        if (head.Value.Offerable)
        {
            OfferLocked(head);
        }

        head.Value.Turn.TrySetResult();
    }

    /// <summary>
    /// True when other local waiters follow <paramref name="place"/>: behind it, or with it in a
    /// shared queue (whose members go at once): the queue keeps its place in line, or is let in, for them.
    /// </summary>
    public bool HasOthers(LinkedListNode<WaitPlace> place)
    {
        lock (_sync)
        {
            return place.Next is not null || (Hold.Shared && _line.Count > 1);
        }
    }

    /// <summary>
    /// A member took the hold and kept the queue's place in line (<see cref="Hold.KeepsPlace"/>) for
    /// <paramref name="ttl"/>: the next member knows the hold is its sibling's, and waits for a wake.
    /// </summary>
    public void KeptPlace(TimeSpan ttl)
    {
        var until = _time.GetTimestamp() + _time.Ticks(ttl);
        lock (_sync)
        {
            _keptPlaceAt = _releases;
            Interlocked.Exchange(ref _heldUntil, until);
        }
    }

    /// <summary>For the next member after <see cref="KeptPlace"/>: true when it should wait for a wake before asking (none came since).</summary>
    public bool TakeKeptPlace()
    {
        lock (_sync)
        {
            var waitFirst = _keptPlaceAt == _releases;
            _keptPlaceAt = -1;
            return waitFirst;
        }
    }

    /// <summary>The head waiter <paramref name="place"/> goes to sleep: its offer to this manager's releases (kept if it has one, claimed or not).</summary>
    public Successor Offer(LinkedListNode<WaitPlace> place)
    {
        lock (_sync)
        {
            return OfferLocked(place);
        }
    }

    private Successor OfferLocked(LinkedListNode<WaitPlace> place) => place.Value.Offer ??= new Successor(Id, place.Value.Id, place.Value.Ttl);

    /// <summary>
    /// The waiter is about to ask a node itself, or leaves: it takes its offer back. Null when no
    /// release claimed it; otherwise the claimed offer, whose <see cref="Successor.Outcome"/> it must await.
    /// </summary>
    public Successor? Withdraw(LinkedListNode<WaitPlace> place)
    {
        lock (_sync)
        {
            var offer = place.Value.Offer;
            place.Value.Offer = null;
            return offer is null || offer.TryWithdraw() ? null : offer;
        }
    }

    /// <summary>True when the head waiter is offered (see <see cref="WaitQueues.HasOffer"/>).</summary>
    public bool HasOffer
    {
        get
        {
            lock (_sync)
            {
                return _line.First?.Value.Offer is not null;
            }
        }
    }

    /// <summary>For a release of this manager: the head waiter's offer, now the release's to hand the hold to; null when it has none.</summary>
    public Successor? ClaimSuccessor()
    {
        lock (_sync)
        {
            if (_closed || _idle || _line.First is not { Value.Offer: { } offer } head || !offer.TryClaim())
            {
                return null;
            }

            offer.Stay = head.Next is not null;
            return offer;
        }
    }

    /// <summary>The release count and a task that completes at the next wake (or when it is time to look again); take it before an attempt.</summary>
    public (long Releases, Task NextRelease) Snapshot()
    {
        lock (_sync)
        {
            return (_releases, _released.Task);
        }
    }

    /// <summary>
    /// A release woke this queue. Every node of a Redlock announces the same release with the same
    /// notice, so a repeated notice counts once (it still ends a sleep); null (a connection change)
    /// always counts. A wake that reaches a closed or idle queue is passed on, so that it is not lost
    /// with it.
    /// </summary>
    public void OnWake(ILockNode node, string? notice)
    {
        if (ReleaseNotice.IsProbe(notice))
        {
            return;
        }

        if (notice is not null)
        {
            Interlocked.Exchange(ref _lastWakeAt, _time.GetTimestamp());
        }

        WakeSignals woken;
        Action<WaitQueue>? sealing;
        lock (_sync)
        {
            if (_closed || _idle)
            {
                if (notice is not null)
                {
                    _ = LeaveLineAsync(node);
                }

                return;
            }

            StopLookingAgain();
            woken = RenewSignals();
            if (notice is not null && notice == _lastNotice)
            {
                // Another node of the same release: not a release more, but that node has just
                // handed the turn over, maybe after this queue's attempt was refused there (the
                // attempt overtook the release). The queue then stands in no line of that node, so
                // nothing else would tell it to look again: this wake ends the sleep like a look.
                sealing = null;
            }
            else
            {
                Volatile.Write(ref _lastNotice, notice);
                Interlocked.Increment(ref _releases);
                sealing = Hold.Shared ? Sealed : null;
                Sealed = null;
            }
        }

        sealing?.Invoke(this);
        woken.Fire();
    }

    /// <summary>
    /// The line's news: a turn was handed to a queue ahead (look again once its grace is over, unless
    /// woken first), or taken (the hold is taken that long: nothing to look at before; readers ignore it).
    /// </summary>
    public void OnNews(string news)
    {
        // "Taken" is not for readers: another reader's take lets them in too (its script wakes them),
        // and a sleep stretched to that reader's TTL outlasts a wake that a split vote (Redlock)
        // used up, to the waiter's deadline. They look again on their own pause. Nor is a take by this
        // queue itself news: a Redlock round that split gives it up (released, when the queue yields
        // its turn, with no news after), and a sleep stretched to that TTL slept past the lock's
        // release to the holder's TTL (RivalTurnTests).
        if (!ReleaseNotice.ReadNews(news, out var taken, out var after, out var by) || (taken && (Hold.Shared || by.SequenceEqual(Id))))
        {
            return;
        }

        var now = _time.GetTimestamp();
        SerialTimer lookAgain;
        lock (_sync)
        {
            if (_closed || _idle)
            {
                return;
            }

            if (taken)
            {
                StopLookingAgain();
                Interlocked.Exchange(ref _heldUntil, now + _time.Ticks(after));
                return;
            }

            Interlocked.Exchange(ref _heldUntil, 0);
            lookAgain = _lookAgain ??= new SerialTimer(_time, static s => ((WaitQueue)s!).OnLookAgain(), this);
            lookAgain.Plan(now + _time.Ticks(after + NewsMargin));
        }

        // Applied with the lock free: a fake clock runs due timers inside Change, and a continuation
        // run there may need this queue from another thread. Stopped meanwhile, the timer is
        // disposed and the setting does nothing.
        lookAgain.Apply();
    }

    private void OnLookAgain() => LookAgain(onlyWhenDue: true);

    /// <summary>
    /// A member of a shared queue got in: its take let the queue in for the grace and took it out of
    /// the line, so no release would wake the members asleep (they slept to the holder's TTL while
    /// others took the lock). They look again now, and come in while the grace lasts.
    /// </summary>
    public void MemberLetIn() => LookAgain(onlyWhenDue: false);

    private void LookAgain(bool onlyWhenDue)
    {
        WakeSignals due;
        lock (_sync)
        {
            if (_closed || _idle || (onlyWhenDue && _lookAgain is null))
            {
                return;
            }

            StopLookingAgain();
            due = RenewSignals();
        }

        due.Fire();
    }

    /// <summary>Takes the signals a wake fires and puts new ones for the next; call under the lock, fire outside it.</summary>
    private WakeSignals RenewSignals()
    {
        var current = new WakeSignals(_released, _nextWake);
        _released = NewSignal();
        _nextWake = null;
        return current;
    }

    /// <summary>Drops a pending look (a wake came first, or nobody waits); call under the lock.</summary>
    private void StopLookingAgain()
    {
        _lookAgain?.Dispose();
        _lookAgain = null;
    }

    /// <summary>
    /// Stops listening. A queue whose last waiter leaves without the hold gives up its place in the
    /// line and passes on any turn it may have been handed (a release can have chosen it while its
    /// waiter was timing out). With several nodes it does so after winning too: a node that answered
    /// the winning attempt late, with a refusal, put the queue back in its line. The leave is sent
    /// after that late attempt on the same connection, so it runs after it.
    /// </summary>
    /// <returns>
    /// Completes once every node that answers has the leave. A <see cref="ILockNode.Silent"/> node is
    /// not waited for: a cancelled caller would wait out the node timeout for it (999 ms of 1 s, the
    /// median of 65 cancels with a node of three paused), and its leave is sent ahead of anything
    /// this process sends it later. The subscriptions close once every leave is over.
    /// </returns>
    public Task CloseAsync(bool acquired)
    {
        lock (_sync)
        {
            _closed = true;
            StopLookingAgain();
        }

        var leaves = !acquired || _nodes.Count > 1 ? _nodes.Select(LeaveLineAsync).ToArray() : [];
        var closed = UnsubscribeAfterAsync(leaves);
        var heard = leaves.Where((_, i) => !_nodes[i].Silent).ToArray();
        return heard.Length == leaves.Length ? closed : Task.WhenAll(heard);
    }

    private async Task UnsubscribeAfterAsync(Task[] leaves)
    {
        await Task.WhenAll(leaves).ConfigureAwait(false);
        foreach (var subscription in await Subscriptions.ConfigureAwait(false))
        {
            if (subscription is not null)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task LeaveLineAsync(ILockNode node)
    {
        try
        {
            await Hold.LeaveAsync(node, Id, ReleaseNotice.New(Id)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Best effort: a release skips a queue nobody listens for, and waiters also look
            // again when the holder's TTL runs out.
        }
    }

    private Task<INodeSubscription?[]> SubscribeAllAsync(TimeSpan timeout) =>
        Task.WhenAll(_nodes.Select((node, i) => SubscribeOneAsync(node, i, timeout)));

    private async Task<INodeSubscription?> SubscribeOneAsync(ILockNode node, int index, TimeSpan timeout)
    {
        var subscription = await SubscribeOrNullAsync(node, timeout).ConfigureAwait(false);
        Volatile.Write(ref _subscribed[index], subscription);
        if (Interlocked.Increment(ref _subscribeAnswers) == LockValidity.QuorumSize(_nodes.Count))
        {
            _majoritySubscribed.TrySetResult();
        }

        return subscription;
    }

    private async Task<INodeSubscription?> SubscribeOrNullAsync(ILockNode node, TimeSpan timeout)
    {
        var subscribing = Hold.SubscribeAsync(node, Id, notice => OnWake(node, notice), OnNews);
        try
        {
            return await subscribing.WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Without notifications from this node, waiters fall back to the holder's TTL and RetryDelay.
            _ = DisposeWhenSubscribedAsync(subscribing);
            return null;
        }
    }

    /// <summary>A subscription that came too late is closed once it arrives.</summary>
    private static async Task DisposeWhenSubscribedAsync(Task<INodeSubscription> subscribing)
    {
        try
        {
            await (await subscribing.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // It never came: nothing to close.
        }
    }

    /// <summary>What one wake completes: the sleepers' task and the running rounds' token (see <see cref="NextWake"/>).</summary>
    private readonly record struct WakeSignals(TaskCompletionSource Released, CancellationTokenSource? NextWake)
    {
        public void Fire()
        {
            Released.TrySetResult();
            NextWake?.Cancel();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
