namespace DistLock.Algorithm;

/// <summary>Why a lease was lost: a short code for metrics, a sentence for the log.</summary>
internal sealed record LostReason(string Code, string Description)
{
    public static LostReason Refused { get; } = new("refused", "an extension was refused: the key is gone or held by someone else");

    public static LostReason Expired { get; } = new("expired", "its validity ran out before an extension succeeded");

    public static LostReason ReleaseUnclear { get; } =
        new("release-unclear", "a release failed, timed out or was cancelled, so the key may already be gone and someone else may hold the lock");

    public static LostReason Abandoned { get; } =
        new("abandoned", "its handle was garbage-collected without being released, so nothing extends it any more");

    public static LostReason Disposed { get; } = new("disposed", "its manager was disposed, so nothing extends it any more");
}
