using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DistLock;

/// <summary>
/// The names under which DistLock reports metrics (<see cref="System.Diagnostics.Metrics.Meter"/>)
/// and traces (<see cref="System.Diagnostics.ActivitySource"/>). Subscribe with OpenTelemetry:
/// <c>.WithMetrics(m =&gt; m.AddMeter(LockTelemetry.Name))</c> and
/// <c>.WithTracing(t =&gt; t.AddSource(LockTelemetry.Name))</c>; docs/observability.md lists the instruments.
/// </summary>
public static class LockTelemetry
{
    /// <summary>"DistLock": the meter's and the activity source's name.</summary>
    public const string Name = "DistLock";

    internal static readonly ActivitySource Source = new(Name, typeof(LockTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Meter SharedMeter = new(Name, typeof(LockTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>The meter for one manager: from the host's factory when it has one, else the shared one.</summary>
    internal static Meter MeterFrom(IMeterFactory? factory) =>
        factory?.Create(new MeterOptions(Name) { Version = SharedMeter.Version }) ?? SharedMeter;
}
