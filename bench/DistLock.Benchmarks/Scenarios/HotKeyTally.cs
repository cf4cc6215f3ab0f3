namespace DistLock.Benchmarks.Scenarios;

/// <summary>Counts for a hot-key run, from one process or merged from several.</summary>
public sealed class HotKeyTally
{
    private readonly long[] _perWorker;
    private readonly List<double> _waits = [];
    private long _switches;
    private long _violations;

    public HotKeyTally(int workers) => _perWorker = new long[workers];

    public void Acquired(int worker, double waitedMs, bool switched)
    {
        Interlocked.Increment(ref _perWorker[worker]);
        if (switched)
        {
            Interlocked.Increment(ref _switches);
        }

        lock (_waits)
        {
            _waits.Add(waitedMs);
        }
    }

    public void Starved(int worker, double waitedMs)
    {
        lock (_waits)
        {
            _waits.Add(waitedMs);
        }
    }

    public void Violation() => Interlocked.Increment(ref _violations);

    public void Merge(int worker, long acquisitions, long switches, long violations, IEnumerable<double> waits)
    {
        _perWorker[worker] = acquisitions;
        _switches += switches;
        _violations += violations;
        _waits.AddRange(waits);
    }

    public ScenarioResult ToResult(string scenario, string row, TimeSpan duration, long serverCommands)
    {
        var waits = _waits.Order().ToList();
        var total = _perWorker.Sum();
        var seconds = duration.TotalSeconds;
        return new ScenarioResult(scenario, row, new Dictionary<string, string>
        {
            ["handoffs/s"] = (total / seconds).ToString("F0"),
            ["switches/s"] = (_switches / seconds).ToString("F0"),
            ["wait p50 ms"] = Stats.Percentile(waits, 50).ToString("F1"),
            ["wait p99 ms"] = Stats.Percentile(waits, 99).ToString("F1"),
            ["wait max ms"] = (waits.Count == 0 ? double.NaN : waits[^1]).ToString("F0"),
            ["fairness min/max"] = (_perWorker.Max() == 0 ? 0 : (double)_perWorker.Min() / _perWorker.Max()).ToString("F2"),
            ["violations"] = _violations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["server cmds/acq"] = (total == 0 ? double.NaN : (double)serverCommands / total).ToString("F1"),
        });
    }
}
