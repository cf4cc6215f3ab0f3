namespace DistLock.Algorithm;

/// <summary>The Redlock arithmetic: quorum size, drift allowance and validity.</summary>
internal static class LockValidity
{
    /// <summary>A fixed part of the drift allowance, for timer and clock granularity.</summary>
    public static readonly TimeSpan FixedDrift = TimeSpan.FromMilliseconds(2);

    /// <summary>The share of the TTL set aside for drift unless told otherwise (<see cref="RedisLockManagerOptions.ClockDriftFactor"/>).</summary>
    public const double DefaultDriftFactor = 0.01;

    /// <summary>A strict majority: any two majorities of the same nodes share at least one node.</summary>
    public static int QuorumSize(int nodeCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        return (nodeCount / 2) + 1;
    }

    /// <summary>How much of a TTL is set aside for clock drift between this process and Redis.</summary>
    public static TimeSpan Drift(TimeSpan ttl, double driftFactor) =>
        TimeSpan.FromTicks((long)(ttl.Ticks * driftFactor)) + FixedDrift;

    /// <summary>
    /// How long the lock is certainly still held, counted from the moment the requests were sent:
    /// the keys were set no earlier than that moment, so they live at least until
    /// <c>send time + TTL</c>, less what the servers' clocks may run ahead of ours.
    /// </summary>
    public static TimeSpan Compute(TimeSpan ttl, TimeSpan elapsed, double driftFactor) =>
        ttl - elapsed - Drift(ttl, driftFactor);
}
