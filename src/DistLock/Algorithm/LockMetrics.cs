using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DistLock.Algorithm;

/// <summary>
/// One manager's instruments. Tagged by mode (single, redlock) and outcome, never by resource
/// name: a name per lock would make every series unbounded.
/// </summary>
internal sealed class LockMetrics
{
    private readonly KeyValuePair<string, object?> _mode;
    // Bucket advice (OpenTelemetry uses it unless a view overrides it). The default boundaries
    // (0, 5, 10, 25 ... 10000) are made for milliseconds; in seconds they would put every
    // uncontended acquire (0.2-2 ms on a LAN) into the first bucket. An acquire takes from under a
    // millisecond to the wait timeout; a lock is held from milliseconds to hours.
    private static readonly InstrumentAdvice<double> AcquireBuckets = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

    private static readonly InstrumentAdvice<double> HeldBuckets = new()
    {
        HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    };

    private static readonly InstrumentAdvice<int> AttemptBuckets = new()
    {
        HistogramBucketBoundaries = [1, 2, 3, 5, 10, 20, 50, 100],
    };

    private readonly Histogram<double> _acquireDuration;
    private readonly Histogram<int> _attempts;
    private readonly Counter<long> _contended;
    private readonly Histogram<double> _heldDuration;
    private readonly Counter<long> _extensions;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _lost;
    private readonly UpDownCounter<long> _held;

    public LockMetrics(Meter meter, string mode)
    {
        _mode = new("distlock.mode", mode);
        Mode = mode;
        _acquireDuration = meter.CreateHistogram("distlock.acquire.duration", "s", "From the call to the lock acquired or given up, waiting included", tags: null, AcquireBuckets);
        _attempts = meter.CreateHistogram("distlock.acquire.attempts", "{attempt}", "Attempts per acquisition", tags: null, AttemptBuckets);
        _contended = meter.CreateCounter<long>("distlock.acquire.contended", "{acquisition}", "Acquisitions that found the lock held and waited");
        _heldDuration = meter.CreateHistogram("distlock.lock.held.duration", "s", "From acquired to released or lost", tags: null, HeldBuckets);
        _extensions = meter.CreateCounter<long>("distlock.lock.extensions", "{extension}", "Extensions, by outcome: extended, refused, failed");
        _failures = meter.CreateCounter<long>("distlock.failures", "{failure}", "Operations that failed, by operation and kind: busy, backend, canceled");
        _lost = meter.CreateCounter<long>("distlock.lock.lost", "{lock}", "Locks lost while held, by reason: refused, expired, disposed");
        _held = meter.CreateUpDownCounter<long>("distlock.lock.held", "{lock}", "Locks held now");
    }

    public string Mode { get; }

    public void Acquired(TimeSpan elapsed, int attempts)
    {
        _acquireDuration.Record(elapsed.TotalSeconds, _mode, new("distlock.outcome", "acquired"));
        _attempts.Record(attempts, _mode);
        if (attempts > 1)
        {
            _contended.Add(1, _mode);
        }

        _held.Add(1, _mode);
    }

    public void AcquireFailed(TimeSpan elapsed, string kind)
    {
        _acquireDuration.Record(elapsed.TotalSeconds, _mode, new("distlock.outcome", kind));
        _failures.Add(1, _mode, new("distlock.operation", "acquire"), new("distlock.failure", kind));
    }

    public void Extended(string outcome)
    {
        _extensions.Add(1, _mode, new("distlock.outcome", outcome));
        if (outcome == "failed")
        {
            _failures.Add(1, _mode, new("distlock.operation", "extend"), new("distlock.failure", "backend"));
        }
    }

    public void ReleaseFailed() =>
        _failures.Add(1, _mode, new("distlock.operation", "release"), new("distlock.failure", "backend"));

    /// <summary>A held lock stopped being held: released (or given up) or lost.</summary>
    public void Ended(TimeSpan heldFor, string? lostReason)
    {
        _held.Add(-1, _mode);
        _heldDuration.Record(heldFor.TotalSeconds, _mode, new("distlock.outcome", lostReason is null ? "released" : "lost"));
        if (lostReason is not null)
        {
            _lost.Add(1, _mode, new("distlock.reason", lostReason));
        }
    }

    /// <summary>Starts a trace span for one operation, when anyone listens.</summary>
    public Activity? Start(string operation, string resource)
    {
        var activity = LockTelemetry.Source.StartActivity("distlock." + operation, ActivityKind.Client);
        activity?.SetTag("distlock.mode", Mode);
        activity?.SetTag("distlock.resource", resource);
        return activity;
    }
}
