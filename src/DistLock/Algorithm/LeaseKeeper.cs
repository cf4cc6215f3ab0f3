namespace DistLock.Algorithm;

/// <summary>
/// The one timer behind all of a manager's leases: it wakes each lease when its next extension
/// or its deadline is due. Leases wait in a priority queue by due time, so a thousand held locks
/// cost one timer and no blocked thread.
/// </summary>
internal sealed class LeaseKeeper : IDisposable
{
    private readonly TimeProvider _time;
    private readonly PriorityQueue<Lease, long> _due = new();
    private readonly HashSet<Lease> _leases = [];
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;
    private bool _disposed;

    public LeaseKeeper(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static s => ((LeaseKeeper)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public TimeProvider Time => _time;

    /// <summary>How many leases the keeper looks after (for tests: none once every lock is released or lost).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _leases.Count;
            }
        }
    }

    /// <summary>Wakes <paramref name="lease"/> at the timestamp <paramref name="at"/>; replaces its earlier wake, if any.</summary>
    public void Schedule(Lease lease, long at)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _leases.Add(lease);
            _due.Remove(lease, out _, out _);
            _due.Enqueue(lease, at);
            if (at < _armedFor)
            {
                Arm(at);
            }
        }
    }

    public void Forget(Lease lease)
    {
        lock (_gate)
        {
            if (_leases.Remove(lease))
            {
                _due.Remove(lease, out _, out _);
            }
        }
    }

    /// <summary>Stops the timer and hands back the leases it still looked after.</summary>
    public List<Lease> Close()
    {
        lock (_gate)
        {
            _disposed = true;
            var left = _leases.ToList();
            _leases.Clear();
            _due.Clear();
            _timer.Dispose();
            return left;
        }
    }

    public void Dispose() => Close();

    private void OnTimer()
    {
        List<Lease>? due = null;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            while (_due.TryPeek(out var lease, out var at) && at <= now)
            {
                _due.Dequeue();
                (due ??= []).Add(lease);
            }

            _armedFor = long.MaxValue;
            if (!_disposed && _due.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }

        // Outside the gate: a lease reschedules itself from here.
        foreach (var lease in due ?? [])
        {
            lease.OnDue();
        }
    }

    private void Arm(long at)
    {
        _armedFor = at;
        var delay = _time.GetElapsedTime(_time.GetTimestamp(), at);
        _timer.Change(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}
