namespace DistLock.Algorithm;

/// <summary>The outcome of one acquisition attempt over all nodes.</summary>
internal sealed class AttemptResult
{
    private AttemptResult(bool acquired, TimeSpan validity, long sentAt, TimeSpan? holderTtl, Exception? backendError, RoundResult round)
    {
        Acquired = acquired;
        Validity = validity;
        SentAt = sentAt;
        HolderTtl = holderTtl;
        BackendError = backendError;
        Round = round;
    }

    public bool Acquired { get; }

    /// <summary>For an acquired lock: how long it is certainly held, counted from <see cref="SentAt"/>.</summary>
    public TimeSpan Validity { get; }

    /// <summary>The <see cref="TimeProvider"/> timestamp at which the commands were sent.</summary>
    public long SentAt { get; }

    /// <summary>For a busy lock: the holder's shortest remaining TTL, when a node reported one.</summary>
    public TimeSpan? HolderTtl { get; }

    /// <summary>Set when too many nodes failed for a majority to answer: an outage, not contention.</summary>
    public Exception? BackendError { get; }

    public RoundResult Round { get; }

    public static AttemptResult Success(TimeSpan validity, long sentAt, RoundResult round) =>
        new(true, validity, sentAt, null, null, round);

    public static AttemptResult Busy(long sentAt, RoundResult round) =>
        new(false, TimeSpan.Zero, sentAt, round.ShortestHolderTtl, null, round);

    public static AttemptResult Unavailable(long sentAt, RoundResult round) =>
        new(false, TimeSpan.Zero, sentAt, null, round.FirstError ?? new InvalidOperationException("No node answered."), round);
}
