namespace DistLock;

/// <summary>
/// The settings of one <see cref="LeaderElection"/>. Everything else (key prefix, handover grace,
/// node timeout, clock) is the manager's.
/// </summary>
public sealed class LeaderElectionOptions
{
    /// <summary>The shortest accepted <see cref="MaxRetryBackoff"/>.</summary>
    public static readonly TimeSpan MinRetryBackoff = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan LongestRetryBackoff = TimeSpan.FromHours(1);

    /// <summary>
    /// The lease of a term: a leader that crashes is replaced within about this long (plus the
    /// handover grace), and a live leader extends it every third of it. Null (the default) uses the
    /// manager's <see cref="AcquireOptions.Ttl"/>; from <see cref="AcquireOptions.MinTtl"/> to
    /// <see cref="AcquireOptions.MaxTtl"/>.
    /// </summary>
    public TimeSpan? Ttl { get; set; }

    /// <summary>
    /// Who this candidate is, as <see cref="LeaderElection.GetLeaderAsync"/> and <c>distlock status</c>
    /// show the leader. Null (the default) uses the manager's <see cref="AcquireOptions.HolderLabel"/>,
    /// or, without one, <c>"{machine name} pid {process id}"</c>. The same rules as
    /// <see cref="AcquireOptions.HolderLabel"/>.
    /// </summary>
    public string? HolderLabel { get; set; }

    /// <summary>
    /// The longest pause between two campaigns while Redis cannot be reached: the first pause is
    /// 100 ms and each one after it doubles, up to this, each drawn between half of it and all of it.
    /// Default 5 s; from <see cref="MinRetryBackoff"/> to 1 hour.
    /// </summary>
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every setting, as <c>CreateElection</c> does.</summary>
    /// <exception cref="ArgumentException">A setting has an invalid value; the message names it.</exception>
    public void Validate()
    {
        if (Ttl is { } ttl)
        {
            AcquireOptions.CheckTtl(ttl, nameof(Ttl));
        }

        if (HolderLabel is not null)
        {
            new AcquireOptions { HolderLabel = HolderLabel }.Validate();
        }

        if (MaxRetryBackoff < MinRetryBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetryBackoff), MaxRetryBackoff, $"MaxRetryBackoff must be at least {MinRetryBackoff.TotalMilliseconds} ms: a candidate must not retry an unreachable Redis in a loop.");
        }

        // Beyond some 49 days a pause cannot even be timed (Task.Delay refuses it): found only after
        // the doublings reach it, long after start, as an exception out of WaitForLeadershipAsync.
        if (MaxRetryBackoff > LongestRetryBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetryBackoff), MaxRetryBackoff, "MaxRetryBackoff must be at most 1 hour: a candidate would stay out of the election that long after Redis came back.");
        }
    }

    internal LeaderElectionOptions Clone() => (LeaderElectionOptions)MemberwiseClone();
}
