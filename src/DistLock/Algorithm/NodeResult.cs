namespace DistLock.Algorithm;

/// <summary>One node's answer to one command.</summary>
/// <param name="Reply">Granted, denied or failed.</param>
/// <param name="HolderTtl">For a denied acquire: the holder's remaining time to live, when known.</param>
/// <param name="Error">For a failed call: why.</param>
/// <param name="Fence">For a granted fence: the fencing token the node issued (see <see cref="Hold.FenceAsync"/>).</param>
/// <param name="Busy">For a denied acquire of several keys: those that were not the caller's to take, when known.</param>
/// <param name="TookTurn">For a granted acquire: it took the turn handed to its queue (see <see cref="Hold.GiveBackAsync"/>).</param>
/// <param name="OwnLateGrant">For a denied acquire: the caller's own grant from an earlier attempt holds, on its way to being undone.</param>
/// <param name="HandedOver">For a granted release: the lock went straight to the waiter it was offered (see <see cref="Hold.HandOverAsync"/>).</param>
/// <param name="HeldBy">For a denied acquire: the lock id that holds the node, when known ("" when the node said only that it is held).</param>
/// <param name="TurnOfOther">For a denied acquire: the node keeps the turn for another waiting queue.</param>
internal readonly record struct NodeResult(
    NodeReply Reply,
    TimeSpan? HolderTtl = null,
    Exception? Error = null,
    long Fence = 0,
    IReadOnlyList<string>? Busy = null,
    bool TookTurn = false,
    bool OwnLateGrant = false,
    bool HandedOver = false,
    string? HeldBy = null,
    bool TurnOfOther = false)
{
    /// <summary>
    /// For a denied acquire: another queue's turn holds the node, kept for it or taken on it, and not
    /// the holder whose release (<paramref name="wakeNotice"/>) handed the caller its own turn, which
    /// may simply not have reached this node yet.
    /// </summary>
    public bool IsRivalTurn(string? wakeNotice) =>
        IsHeldByOther && (TurnOfOther || (wakeNotice is not null && !ReleaseNotice.IsFrom(wakeNotice, HeldBy!)));

    /// <summary>For a denied acquire: another holder or waiting queue holds the node, as far as it said.</summary>
    public bool IsHeldByOther => Reply == NodeReply.Denied && (TurnOfOther || HeldBy is not null);

    public static NodeResult ReleasedToSuccessor { get; } = new(NodeReply.Granted, HandedOver: true);

    public static NodeResult RefusedByOwnLateGrant { get; } = new(NodeReply.Denied, OwnLateGrant: true);

    public static NodeResult Granted { get; } = new(NodeReply.Granted);

    public static NodeResult GrantedTurn { get; } = new(NodeReply.Granted, TookTurn: true);

    public static NodeResult GrantedWith(long fence) => new(NodeReply.Granted, Fence: fence);

    public static NodeResult Denied { get; } = new(NodeReply.Denied);

    /// <summary>A denied acquire whose node said only that someone holds it (a SET NX that found the key).</summary>
    public static NodeResult Taken { get; } = new(NodeReply.Denied, HeldBy: string.Empty);

    public static NodeResult Refused(TimeSpan? holderTtl) => new(NodeReply.Denied, holderTtl);

    public static NodeResult Failed(Exception error) => new(NodeReply.Failed, Error: error);

    /// <summary>
    /// The node refused the caller's arguments (a semaphore's maxCount that disagrees with its live
    /// holders'): no majority can grant, and the acquisition throws <paramref name="error"/> as it
    /// is instead of reporting an outage (see <c>AcquireLoop</c>).
    /// </summary>
    public static NodeResult Rejected(ArgumentException error) => new(NodeReply.Failed, Error: error);
}
