namespace DistLock.Algorithm;

/// <summary>One local waiter's place in its <see cref="WaitQueue"/>.</summary>
/// <param name="id">The waiter's lock id.</param>
/// <param name="ttl">The time to live it asks for.</param>
/// <param name="offerable">True when a release of this manager may hand the hold straight to it (see <see cref="Successor"/>).</param>
internal sealed class WaitPlace(string id, TimeSpan ttl, bool offerable)
{
    /// <summary>Completes when the waiter is first in its local line (for a shared hold, at once).</summary>
    public TaskCompletionSource Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Id => id;

    public TimeSpan Ttl => ttl;

    public bool Offerable => offerable;

    /// <summary>While the waiter is first and not asking a node itself: its offer to this manager's releases; guarded by the queue.</summary>
    public Successor? Offer { get; set; }
}
