namespace DistLock.Algorithm;

/// <summary>
/// A kind of hold on one resource (the exclusive lock, a read lock, a permit of a semaphore), and
/// everything that differs between kinds: what a node is asked for each step, under which keys, and
/// how its answer reads. The algorithm (the quorum, the retry loop, the wait queues, the lease) is
/// written once over this; a new kind is a new subclass, not a branch in the algorithm or a node.
/// Implementations report a refusal as <see cref="NodeReply.Denied"/> and let transport errors
/// surface as exceptions; the caller bounds every call with its own timeout.
/// </summary>
internal abstract class Hold
{
    /// <summary>The key the hold lives under (for messages, logs and the local wait queues).</summary>
    public abstract string Key { get; }

    /// <summary>The kind, as <see cref="LockHandle.Mode"/> reports it.</summary>
    public abstract LockMode Mode { get; }

    /// <summary>
    /// True when the waiters of one queue go in together (readers share the lock): every member
    /// tries at once when the queue is woken, and the queue takes no new members after that.
    /// </summary>
    public virtual bool Shared => false;

    /// <summary>
    /// True when a queue that took the hold for one waiter keeps its place in line for the next
    /// (passing <c>stay</c>): the next waiter then knows the hold is its sibling's, and waits for a
    /// wake without asking first.
    /// </summary>
    public virtual bool KeepsPlace => false;

    /// <summary>
    /// True while a waiting attempt keeps part of the hold as it waits for the rest (a set of locks
    /// across Redis Cluster slots, taken a slot at a time; its refusal then asks to look again within
    /// a third of the TTL, to extend what it keeps): a caller that gives up releases it.
    /// </summary>
    public virtual bool HoldsWhileWaiting => false;

    /// <summary>A name for a new wait queue: its place in the line and its wake channel.</summary>
    public virtual string NewQueueId() => RandomHex.New(12);

    /// <summary>
    /// Takes the hold for <paramref name="id"/>. A <paramref name="queue"/> other than "" claims a
    /// turn handed to that queue, or keeps (takes) its place in the line when refused; with
    /// <paramref name="stay"/> it keeps its place after taking the hold, for its next waiter. A queue
    /// not in line yet joins it at <paramref name="arrival"/> (see <see cref="ArrivalStamp"/>), the
    /// same on every node of one attempt. A refusal carries how long the hold is taken for
    /// (<see cref="NodeResult.HolderTtl"/>).
    /// </summary>
    public abstract Task<NodeResult> AcquireAsync(ILockNode node, string id, TimeSpan ttl, string queue, bool stay, long arrival);

    /// <summary>Resets the time to live of the hold <paramref name="id"/>, only while it is still held.</summary>
    public abstract Task<NodeResult> ExtendAsync(ILockNode node, string id, TimeSpan ttl);

    /// <summary>Ends the hold <paramref name="id"/> if it is still held, and hands what it frees to the line with <paramref name="notice"/>.</summary>
    public abstract Task<NodeResult> ReleaseAsync(ILockNode node, string id, string notice);

    /// <summary>
    /// True when a release on <paramref name="node"/> can hand the hold straight to a waiter of the
    /// releaser's own process (<see cref="HandOverAsync"/>): one kind of hold per key, nothing to confirm.
    /// </summary>
    public virtual bool CanHandOver(ILockNode node) => false;

    /// <summary>
    /// Ends the hold <paramref name="id"/> like <see cref="ReleaseAsync"/>, but where the turn is the
    /// queue of <paramref name="successor"/>, gives the hold to that waiter at once, for its TTL
    /// (<see cref="NodeResult.HandedOver"/>); with <c>Stay</c> the queue keeps its place in line.
    /// </summary>
    public virtual Task<NodeResult> HandOverAsync(ILockNode node, string id, (string Queue, string Id, TimeSpan Ttl, bool Stay) successor, string notice) =>
        ReleaseAsync(node, id, notice);

    /// <summary>
    /// Undoes the grant of an attempt that failed on the other nodes and took <paramref name="queue"/>'s
    /// turn here (<see cref="NodeResult.TookTurn"/>), with <paramref name="turn"/> left of it: the hold
    /// is reserved for the queue again for that long, so its next attempt finds the turn it was handed
    /// instead of a release having passed it on to the next in line. Kinds without turns release.
    /// </summary>
    public virtual Task<NodeResult> GiveBackAsync(ILockNode node, string id, string queue, TimeSpan turn, string notice) => ReleaseAsync(node, id, notice);

    /// <summary>
    /// Issues the next fencing token to <paramref name="id"/> while it holds, or with a
    /// <paramref name="floor"/> above 0, raises the counter to it (see <see cref="RedlockProtocol"/>),
    /// also only while it holds: granted with the token (<see cref="NodeResult.Fence"/>), else denied.
    /// </summary>
    public abstract Task<NodeResult> FenceAsync(ILockNode node, string id, long floor);

    /// <summary>The queue leaves the line without the hold; a turn handed to it goes to the next.</summary>
    public abstract Task LeaveAsync(ILockNode node, string queue, string notice);

    /// <summary>
    /// Listens for the queue's wakes (<paramref name="onWake"/>: the notice, or null when a wake may
    /// have been missed: the connection dropped or came back) and for the line's news
    /// (<paramref name="onNews"/>: see <see cref="ReleaseNotice.ReadNews"/>).
    /// </summary>
    public abstract Task<INodeSubscription> SubscribeAsync(ILockNode node, string queue, Action<string?> onWake, Action<string> onNews);
}
