using DistLock.Transport;

namespace DistLock.Algorithm;

/// <summary>The wait queues of one manager, one per lock that has local waiters.</summary>
internal sealed class WaitQueues
{
    private readonly Dictionary<string, WaitQueue> _queues = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<ILockNode> _nodes;
    private readonly TimeSpan _subscribeTimeout;
    private readonly TimeProvider _time;

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

    /// <summary>True when someone in this process already waits for <paramref name="key"/>: a newcomer queues behind.</summary>
    public bool HasWaiters(string key)
    {
        lock (_queues)
        {
            return _queues.ContainsKey(key);
        }
    }

    /// <summary>Joins the queue for <paramref name="key"/>, creating it (and its subscriptions) for the first waiter.</summary>
    public WaitQueue Join(string key)
    {
        lock (_queues)
        {
            if (!_queues.TryGetValue(key, out var queue))
            {
                queue = new WaitQueue(_nodes, key, _subscribeTimeout, _time);
                _queues.Add(key, queue);
            }

            queue.Members++;
            return queue;
        }
    }

    /// <summary>Leaves the queue; the last one out drops it and its subscriptions.</summary>
    /// <param name="key">The lock key.</param>
    /// <param name="queue">The queue being left.</param>
    /// <param name="acquired">Whether the leaving waiter got the lock.</param>
    /// <returns>
    /// Completes when the queue has left Redis's line of waiters, if it was the last one out; a
    /// waiter that gives up awaits it, so that the lock is never reserved for it after it returned.
    /// </returns>
    public Task LeaveAsync(string key, WaitQueue queue, bool acquired)
    {
        lock (_queues)
        {
            if (--queue.Members > 0)
            {
                return Task.CompletedTask;
            }

            _queues.Remove(key);
        }

        return queue.CloseAsync(acquired);
    }
}
