namespace DistLock.Algorithm;

/// <summary>
/// The local waiters for one lock in one manager: a FIFO line in which only the head talks to
/// Redis, and one place in the lock's line of waiters in Redis, with one wake channel (on every
/// node) that all of them share. A release wakes the first live queue in Redis's line only.
/// </summary>
internal sealed class WaitQueue
{
    // Redis expires a key a millisecond after its PX runs out at the latest; the standby's timer
    // starts after the reservation was set, so this margin is enough to find it gone.
    private static readonly TimeSpan StandbyMargin = TimeSpan.FromMilliseconds(2);

    private readonly object _sync = new();
    private readonly IReadOnlyList<ILockNode> _nodes;
    private readonly LockTarget _target;
    private readonly string _key;
    private readonly LinkedList<TaskCompletionSource> _line = new();
    private TaskCompletionSource _released = NewSignal();
    private long _releases;
    private string? _lastNotice;
    private string? _lastStandby;
    private ITimer? _standby;
    private readonly TimeSpan _standbyDelay;
    private readonly TimeProvider _time;
    private bool _closed;
    private bool _idle;
    private INodeSubscription?[]? _subscribed;

    /// <param name="nodes">The nodes.</param>
    /// <param name="target">The lock key and mode; a reader's queue is its own (see <see cref="WaitQueues.Join"/>).</param>
    /// <param name="subscribeTimeout">How long subscribing may take.</param>
    /// <param name="handoffGrace">How long a release reserves the lock for the waiter it wakes.</param>
    /// <param name="time">The clock.</param>
    public WaitQueue(IReadOnlyList<ILockNode> nodes, LockTarget target, TimeSpan subscribeTimeout, TimeSpan handoffGrace, TimeProvider time)
    {
        _nodes = nodes;
        _target = target;
        _key = target.Key;
        _time = time;
        _standbyDelay = handoffGrace + StandbyMargin;
        Id = target.Mode == LockMode.Read ? LockTarget.ReaderWaiterPrefix + RandomHex.New(12) : RandomHex.New(12);
        Subscriptions = SubscribeAllAsync(subscribeTimeout, time);
    }

    /// <summary>The lock key this queue waits for.</summary>
    public string Key => _key;

    /// <summary>
    /// True for a queue of readers: its members do not take turns (every reader the release lets
    /// in may go at once), and it takes no new members once woken (see <see cref="Sealed"/>).
    /// </summary>
    public bool IsReader => _target.Mode == LockMode.Read;

    /// <summary>The queue's name in the registry: the lock key, apart for readers (they queue apart from writers).</summary>
    public string RegistryKey => RegistryKeyOf(_target);

    /// <summary>
    /// Called once, when a queue of readers is first woken: the registry then forgets it, so that
    /// readers who come later queue anew, behind the writers that came before them.
    /// </summary>
    public Action<WaitQueue>? Sealed { get; set; }

    public static string RegistryKeyOf(LockTarget target) => target.Mode == LockMode.Read ? target.Key + "\u0001read" : target.Key;

    /// <summary>This queue's name in the lock's line of waiters and in its wake channel.</summary>
    public string Id { get; }

    /// <summary>Members of the line plus callers about to join; guarded by the registry.</summary>
    public int Members { get; set; }

    /// <summary>The timer that closes the queue when it stays without members; guarded by the registry.</summary>
    public ITimer? Linger { get; set; }

    /// <summary>
    /// Marks the queue as kept without members (its last one took the lock), or as in use again.
    /// An idle queue is in nobody's line, so a wake that reaches it anyway is passed on.
    /// </summary>
    public void SetIdle(bool idle)
    {
        lock (_sync)
        {
            _idle = idle;
            StopStandby();
        }
    }

    /// <summary>One subscription per node; null where the node could not subscribe.</summary>
    public Task<INodeSubscription?[]> Subscriptions { get; }

    /// <summary>True when a release would reach this queue: at least one node's subscription is up.</summary>
    public bool NotificationsLive => Volatile.Read(ref _subscribed)?.Any(s => s is { IsActive: true }) ?? false;

    /// <summary>Joins the end of the line; the returned place's task completes when it is at the head.</summary>
    public LinkedListNode<TaskCompletionSource> Enqueue()
    {
        lock (_sync)
        {
            var place = _line.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (_line.First == place || IsReader)
            {
                place.Value.TrySetResult();
            }

            return place;
        }
    }

    /// <summary>Leaves the line; when the head leaves, the next waiter becomes the head.</summary>
    public void Leave(LinkedListNode<TaskCompletionSource> place)
    {
        lock (_sync)
        {
            var wasHead = _line.First == place;
            _line.Remove(place);
            if (wasHead)
            {
                _line.First?.Value.TrySetResult();
            }
        }
    }

    /// <summary>
    /// The release count and a task that completes at the next release (or when a standby is due,
    /// which does not count as one); take it before an attempt.
    /// </summary>
    public (long Releases, Task NextRelease) Snapshot()
    {
        lock (_sync)
        {
            return (_releases, _released.Task);
        }
    }

    public long Releases => Interlocked.Read(ref _releases);

    /// <summary>
    /// A release woke this queue. Every node of a Redlock announces the same release with the same
    /// notice, so a repeated notice is dropped; null (a connection change) always counts. A wake
    /// that reaches a closed queue is passed on, so that it is not lost with it.
    /// </summary>
    public void OnReleased(ILockNode node, string? notice)
    {
        if (ReleaseNotice.IsProbe(notice))
        {
            return;
        }

        if (ReleaseNotice.IsStandby(notice))
        {
            OnStandby(notice!);
            return;
        }

        TaskCompletionSource released;
        Action<WaitQueue>? sealing;
        lock (_sync)
        {
            if (_closed || _idle)
            {
                if (notice is not null)
                {
                    _ = PassOnAsync(node);
                }

                return;
            }

            if (notice is not null && notice == _lastNotice)
            {
                return;
            }

            _lastNotice = notice;
            StopStandby();
            Interlocked.Increment(ref _releases);
            released = _released;
            _released = NewSignal();
            sealing = IsReader ? Sealed : null;
            Sealed = null;
        }

        sealing?.Invoke(this);
        released.TrySetResult();
    }

    /// <summary>
    /// The lock was reserved for the waiter ahead of this queue, which has the grace to claim it.
    /// If no release wakes this queue before the grace is over, its head looks again then: a
    /// stalled waiter ahead (a paused process keeps its subscription) costs the grace, not the TTL.
    /// The standby ends the sleep without counting as a release.
    /// </summary>
    private void OnStandby(string notice)
    {
        lock (_sync)
        {
            if (_closed || _idle || notice == _lastStandby)
            {
                return;
            }

            _lastStandby = notice;
            _standby ??= _time.CreateTimer(static s => ((WaitQueue)s!).OnStandbyDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _standby.Change(_standbyDelay, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnStandbyDue()
    {
        TaskCompletionSource due;
        lock (_sync)
        {
            if (_closed || _idle || _standby is null)
            {
                return;
            }

            StopStandby();
            due = _released;
            _released = NewSignal();
        }

        due.TrySetResult();
    }

    /// <summary>Drops a pending standby (a release came first, or nobody waits); call under the lock.</summary>
    private void StopStandby()
    {
        _standby?.Dispose();
        _standby = null;
    }

    /// <summary>
    /// Stops listening. A queue whose last waiter leaves without the lock gives up its place in
    /// Redis's line and passes on any wake it may have taken (a release can have chosen it while
    /// its waiter was timing out). With several nodes it does so after winning too: a node that
    /// answered the winning attempt late, with a refusal, put the queue back in its line, and a
    /// release there would reserve the key for a queue that is gone. The pass-on is sent after
    /// that late attempt on the same connection, so it runs after it.
    /// </summary>
    public async Task CloseAsync(bool acquired)
    {
        lock (_sync)
        {
            _closed = true;
            StopStandby();
        }

        if (!acquired || _nodes.Count > 1)
        {
            await Task.WhenAll(_nodes.Select(PassOnAsync)).ConfigureAwait(false);
        }

        foreach (var subscription in await Subscriptions.ConfigureAwait(false))
        {
            if (subscription is not null)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task PassOnAsync(ILockNode node)
    {
        try
        {
            await node.PassOnAsync(_target, Id, ReleaseNotice.New(Id)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Best effort: the next release skips a waiter nobody listens for, and waiters also
            // wake when the holder's TTL runs out.
        }
    }

    private async Task<INodeSubscription?[]> SubscribeAllAsync(TimeSpan timeout, TimeProvider time)
    {
        var subscribing = _nodes.Select(node => SubscribeOneAsync(node, timeout, time));
        var subscribed = await Task.WhenAll(subscribing).ConfigureAwait(false);
        Volatile.Write(ref _subscribed, subscribed);
        return subscribed;
    }

    private async Task<INodeSubscription?> SubscribeOneAsync(ILockNode node, TimeSpan timeout, TimeProvider time)
    {
        var subscribing = node.SubscribeAsync(_key, Id, notice => OnReleased(node, notice));
        try
        {
            return await subscribing.WaitAsync(timeout, time).ConfigureAwait(false);
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

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
