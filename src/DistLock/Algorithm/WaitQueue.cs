using DistLock.Transport;

namespace DistLock.Algorithm;

/// <summary>
/// The local waiters for one lock in one manager: a FIFO line in which only the head talks to
/// Redis, and one release subscription (on every node) that all of them share.
/// </summary>
internal sealed class WaitQueue
{
    private readonly object _sync = new();
    private readonly LinkedList<TaskCompletionSource> _line = new();
    private TaskCompletionSource _released = NewSignal();
    private long _releases;
    private string? _lastNotice;

    public WaitQueue(IReadOnlyList<ILockNode> nodes, string key, TimeSpan subscribeTimeout, TimeProvider time)
    {
        Subscriptions = SubscribeAllAsync(nodes, key, subscribeTimeout, time);
    }

    /// <summary>Members of the line plus callers about to join; guarded by the registry.</summary>
    public int Members { get; set; }

    /// <summary>One subscription per node; null where the node could not subscribe.</summary>
    public Task<INodeSubscription?[]> Subscriptions { get; }

    /// <summary>True when a release would reach this queue: at least one node's subscription is up.</summary>
    public bool NotificationsLive =>
        Subscriptions.IsCompletedSuccessfully && Subscriptions.Result.Any(s => s is { IsActive: true });

    /// <summary>Joins the end of the line; the returned place's task completes when it is at the head.</summary>
    public LinkedListNode<TaskCompletionSource> Enqueue()
    {
        lock (_sync)
        {
            var place = _line.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (_line.First == place)
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

    /// <summary>The release count and a task that completes at the next release; take it before an attempt.</summary>
    public (long Releases, Task NextRelease) Snapshot()
    {
        lock (_sync)
        {
            return (_releases, _released.Task);
        }
    }

    public long Releases => Interlocked.Read(ref _releases);

    /// <summary>
    /// A release was announced. Every node of a Redlock announces the same release with the same
    /// notice, so a repeated notice is dropped; null (a connection change) always counts.
    /// </summary>
    public void OnReleased(string? notice)
    {
        TaskCompletionSource released;
        lock (_sync)
        {
            if (notice is not null && notice == _lastNotice)
            {
                return;
            }

            _lastNotice = notice;
            Interlocked.Increment(ref _releases);
            released = _released;
            _released = NewSignal();
        }

        released.TrySetResult();
    }

    public async Task CloseAsync()
    {
        foreach (var subscription in await Subscriptions.ConfigureAwait(false))
        {
            if (subscription is not null)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<INodeSubscription?[]> SubscribeAllAsync(IReadOnlyList<ILockNode> nodes, string key, TimeSpan timeout, TimeProvider time)
    {
        var subscribing = nodes.Select(node => SubscribeOneAsync(node, key, timeout, time));
        return await Task.WhenAll(subscribing).ConfigureAwait(false);
    }

    private async Task<INodeSubscription?> SubscribeOneAsync(ILockNode node, string key, TimeSpan timeout, TimeProvider time)
    {
        var subscribing = node.SubscribeAsync(key, OnReleased);
        try
        {
            return await subscribing.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Without notifications from this node, waiters fall back to the holder's TTL and RetryDelay.
            _ = subscribing.ContinueWith(t => t.Result.DisposeAsync(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            return null;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
