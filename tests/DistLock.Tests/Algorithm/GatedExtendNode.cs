using DistLock.Algorithm;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// Wraps a node and holds its extensions until the test lets them through, newest first, so that
/// a node can run two extensions in the opposite order from the one they were sent in, or run one
/// after its caller gave up on it. Everything else goes straight to the wrapped node.
/// </summary>
internal sealed class GatedExtendNode(ILockNode inner) : ILockNode
{
    private readonly List<(TaskCompletionSource<NodeResult> Answer, LockTarget Target, string Value, TimeSpan Ttl)> _pending = [];

    public string Name => inner.Name;

    /// <summary>Extensions sent and not let through yet.</summary>
    public int Pending
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Runs the extensions held now on the wrapped node, the newest first, and answers them.</summary>
    public async Task RunNewestFirstAsync()
    {
        List<(TaskCompletionSource<NodeResult> Answer, LockTarget Target, string Value, TimeSpan Ttl)> held;
        lock (_pending)
        {
            held = [.. _pending];
            _pending.Clear();
        }

        for (var i = held.Count - 1; i >= 0; i--)
        {
            var (answer, key, id, ttl) = held[i];
            try
            {
                answer.TrySetResult(await inner.ExtendAsync(key, id, ttl));
            }
            catch (Exception ex)
            {
                answer.TrySetException(ex);
            }
        }
    }

    public Task<NodeResult> ExtendAsync(LockTarget key, string id, TimeSpan ttl)
    {
        var answer = new TaskCompletionSource<NodeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pending)
        {
            _pending.Add((answer, key, id, ttl));
        }

        return answer.Task;
    }

    public void EnsureCompatible() => inner.EnsureCompatible();

    public Task<NodeResult> TryAcquireAsync(LockTarget key, string id, TimeSpan ttl, string waiterId) => inner.TryAcquireAsync(key, id, ttl, waiterId);

    public Task<NodeResult> RaiseFenceAsync(string key, long token) => inner.RaiseFenceAsync(key, token);

    public Task<NodeResult> ReleaseAsync(LockTarget key, string id, string notice) => inner.ReleaseAsync(key, id, notice);

    public Task<INodeSubscription> SubscribeAsync(string key, string waiterId, Action<string?> onWake) => inner.SubscribeAsync(key, waiterId, onWake);

    public Task PassOnAsync(LockTarget key, string waiterId, string notice) => inner.PassOnAsync(key, waiterId, notice);
}
