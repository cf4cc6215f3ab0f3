namespace DistLock.Algorithm;

/// <summary>
/// The wait queues of one manager, one per lock that has local waiters. A queue whose last waiter
/// took the lock is kept, subscribed, for <see cref="LingerTime"/>: a process that takes a
/// contended lock often asks for it again right after releasing it, and then goes straight into
/// the line, without a first attempt and without subscribing again.
/// </summary>
internal sealed class WaitQueues
{
    /// <summary>How long a queue outlives its last waiter when that waiter took the lock.</summary>
    public static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, WaitQueue> _queues = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<ILockNode> _nodes;
    private readonly TimeSpan _subscribeTimeout;
    private readonly TimeProvider _time;
    private bool _closed;

    // The dictionary's size, readable without its lock: most acquisitions find no queue at all.
    private int _count;

    public WaitQueues(IReadOnlyList<ILockNode> nodes, TimeSpan subscribeTimeout, TimeProvider time)
    {
        _nodes = nodes;
        _subscribeTimeout = subscribeTimeout;
        _time = time;
    }

    public int Count
    {
        get
        {
            lock (_queues)
            {
                return _queues.Count;
            }
        }
    }

    /// <summary>
    /// True when someone in this process already waits for <paramref name="key"/> (a newcomer
    /// queues behind), or waited for it a moment ago (a newcomer goes straight into the line).
    /// </summary>
    public bool HasWaiters(string key)
    {
        // Advisory (a newcomer that races a first waiter only loses its place in the local line),
        // so the common case, no queue at all, skips the lock that every acquisition would take.
        if (Volatile.Read(ref _count) == 0)
        {
            return false;
        }

        lock (_queues)
        {
            return _queues.ContainsKey(key);
        }
    }

    /// <summary>True when callers of this process (sharing or not) wait for <paramref name="key"/> now (a lingering queue does not count).</summary>
    public bool HasMembers(string key)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return false;
        }

        lock (_queues)
        {
            return (_queues.TryGetValue(key, out var alone) && alone.Members > 0)
                || (_queues.TryGetValue(key + "\u0001shared", out var shared) && shared.Members > 0);
        }
    }

    /// <summary>The waiter of this process asleep at the head of the queue for <paramref name="hold"/>, claimed for a release (see <see cref="Successor"/>); null when none.</summary>
    public Successor? ClaimSuccessor(Hold hold)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return null;
        }

        WaitQueue? queue;
        lock (_queues)
        {
            _queues.TryGetValue(WaitQueue.RegistryKeyOf(hold), out queue);
        }

        return queue?.ClaimSuccessor();
    }

    /// <summary>True when the first waiter of this process for <paramref name="hold"/> is offered to releases, claimed or not (for tests).</summary>
    public bool HasOffer(Hold hold)
    {
        lock (_queues)
        {
            return _queues.TryGetValue(WaitQueue.RegistryKeyOf(hold), out var queue) && queue.HasOffer;
        }
    }

    /// <summary>
    /// Joins the queue for <paramref name="hold"/>, creating it (and its subscriptions) for the first
    /// waiter. Shared holds (readers) have queues apart, whose members do not take turns: a release
    /// lets every reader ahead of the next writer in at once. Such a queue takes new members only until
    /// it is first woken; later ones start a new one, with a new place in line, so that a stream of
    /// local readers cannot keep a writer behind them waiting.
    /// </summary>
    public WaitQueue Join(Hold hold)
    {
        var key = WaitQueue.RegistryKeyOf(hold);
        lock (_queues)
        {
            if (!_queues.TryGetValue(key, out var queue))
            {
                queue = new WaitQueue(_nodes, hold, _subscribeTimeout, _time);
                if (hold.Shared)
                {
                    queue.Sealed = Forget;
                }

                _queues.Add(key, queue);
                Volatile.Write(ref _count, _queues.Count);
            }
            else if (queue.Members == 0)
            {
                // Lingering: in use again. Its timer may not be recorded yet (this join can run inside
                // the timer's creation: a fake clock runs due timers there), so it is the count that
                // says the queue is idle.
                queue.Linger?.Dispose();
                queue.Linger = null;
                queue.SetIdle(false);
            }

            queue.Members++;
            return queue;
        }
    }

    /// <summary>
    /// Leaves the queue; the last one out drops it and its subscriptions, unless it took the lock
    /// from a single node: then the queue lingers (see <see cref="LingerTime"/>). With several
    /// nodes it never does, since a late refusal can have put it back in some node's line.
    /// </summary>
    /// <param name="queue">The queue being left.</param>
    /// <param name="acquired">Whether the leaving waiter got the lock.</param>
    /// <returns>
    /// Completes when the queue has left Redis's line of waiters, if it was the last one out; a
    /// waiter that gives up awaits it, so that the lock is never reserved for it after it returned.
    /// </returns>
    public Task LeaveAsync(WaitQueue queue, bool acquired)
    {
        SerialTimer? linger = null;
        var now = _time.GetTimestamp();
        lock (_queues)
        {
            if (--queue.Members > 0)
            {
                return Task.CompletedTask;
            }

            if (acquired && _nodes.Count == 1 && !_closed && !queue.Hold.Shared)
            {
                queue.SetIdle(true);
                var state = new LingerState(this, queue);
                queue.Linger = linger = state.Timer = new SerialTimer(_time, static s => ((LingerState)s!).Expire(), state);
                linger.Plan(now + _time.Ticks(LingerTime));
            }
            else
            {
                Remove(queue);
            }
        }

        if (linger is null)
        {
            return queue.CloseAsync(acquired);
        }

        // Applied with the lock free: a fake clock runs due timers inside Change, and a continuation
        // run there may need the registry from another thread. Joined again meanwhile, the timer is
        // disposed and the setting does nothing.
        linger.Apply();
        return Task.CompletedTask;
    }

    /// <summary>A queue of readers was woken: later readers queue anew (see <see cref="WaitQueue.Sealed"/>).</summary>
    private void Forget(WaitQueue queue)
    {
        lock (_queues)
        {
            Remove(queue);
        }
    }

    /// <summary>Stops keeping queues without members and closes the idle ones (the manager is closing).</summary>
    public Task CloseIdleAsync()
    {
        List<WaitQueue> idle;
        lock (_queues)
        {
            _closed = true;
            idle = [.. _queues.Values.Where(q => q.Members == 0)];
            foreach (var queue in idle)
            {
                queue.Linger?.Dispose();
                queue.Linger = null;
                Remove(queue);
            }
        }

        return Task.WhenAll(idle.Select(q => q.CloseAsync(acquired: true)));
    }

    private void Expire(LingerState linger)
    {
        var queue = linger.Queue;
        lock (_queues)
        {
            // Joined again since (its timer was dropped, and maybe replaced), or closed with the manager.
            if (queue.Members > 0 || queue.Linger is null || !ReferenceEquals(queue.Linger, linger.Timer))
            {
                return;
            }

            queue.Linger.Dispose();
            queue.Linger = null;
            Remove(queue);
        }

        _ = queue.CloseAsync(acquired: true);
    }

    /// <summary>Drops a queue from the registry, if it is still the one registered; call under its lock.</summary>
    private void Remove(WaitQueue queue)
    {
        if (_queues.TryGetValue(queue.RegistryKey, out var registered) && ReferenceEquals(registered, queue))
        {
            _queues.Remove(queue.RegistryKey);
            Volatile.Write(ref _count, _queues.Count);
        }
    }

    /// <summary>One idle spell of a queue; the timer is set under the registry's lock, before it can fire.</summary>
    private sealed class LingerState(WaitQueues owner, WaitQueue queue)
    {
        public WaitQueue Queue => queue;

        public SerialTimer? Timer { get; set; }

        public void Expire() => owner.Expire(this);
    }
}
