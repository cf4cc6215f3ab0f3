namespace DistLock.Algorithm;

/// <summary>
/// The one timer behind all of a manager's leases: it wakes each lease when its next extension
/// or its deadline is due. Leases wait in a priority queue by due time, so a thousand held locks
/// cost one timer and no blocked thread.
/// </summary>
/// <remarks>
/// Every acquire schedules a lease and every release forgets one, so neither may scan the queue.
/// A lease does not reference its handle, so the keeper does not keep handles alive: a handle the
/// application drops is collected, and its finalizer takes the lease out of here (Lease.Abandon).
/// The current due time of each lease lives in a dictionary; the queue may hold entries that a
/// reschedule or a release made stale, which the timer skips, and which are dropped when they
/// outnumber the live ones.
/// </remarks>
internal sealed class LeaseKeeper : IDisposable
{
    /// <summary>The due time of a lease that the timer has taken out of the queue and is waking, until it schedules again.</summary>
    private const long BeingWoken = long.MaxValue;

    private readonly TimeProvider _time;
    private readonly PriorityQueue<Lease, long> _due = new();
    private readonly Dictionary<Lease, long> _dueAt = [];
    private readonly Lock _gate = new();
    private readonly SerialTimer _timer;
    private long _armedFor = long.MaxValue;
    private bool _disposed;

    public LeaseKeeper(TimeProvider time)
    {
        _time = time;
        _timer = new SerialTimer(time, static s => ((LeaseKeeper)s!).OnTimer(), this);
    }

    public TimeProvider Time => _time;

    /// <summary>How many leases the keeper looks after (for tests: none once every lock is released or lost).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _dueAt.Count;
            }
        }
    }

    /// <summary>Entries in the queue, stale ones included (for tests: bounded however many locks come and go).</summary>
    public int QueuedEntries
    {
        get
        {
            lock (_gate)
            {
                return _due.Count;
            }
        }
    }

    /// <summary>
    /// Wakes <paramref name="lease"/> at its <see cref="Lease.Wake"/>, read now: of calls that race, the
    /// last one reads the latest. Replaces its earlier wake, if any; nothing once the lease has ended
    /// (a call that comes after its <see cref="Forget"/> adds nothing back). Called with no lock held.
    /// </summary>
    public void Schedule(Lease lease)
    {
        long at;
        lock (_gate)
        {
            at = lease.Wake;
            if (_disposed || at == Lease.Ended)
            {
                return;
            }

            _dueAt[lease] = at;
            _due.Enqueue(lease, at);
            if (_due.Count > (2 * _dueAt.Count) + 64)
            {
                Compact();
            }

            if (at >= _armedFor)
            {
                return;
            }

            Arm(at);
        }

        _timer.Apply();
    }

    public void Forget(Lease lease)
    {
        lock (_gate)
        {
            _dueAt.Remove(lease);
        }
    }

    /// <summary>Stops the timer and hands back the leases it still looked after.</summary>
    public List<Lease> Close()
    {
        lock (_gate)
        {
            _disposed = true;
            var left = _dueAt.Keys.ToList();
            _dueAt.Clear();
            _due.Clear();
            _timer.Dispose();
            return left;
        }
    }

    public void Dispose() => Close();

    private void OnTimer()
    {
        List<Lease>? due = null;
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            while (_due.TryPeek(out var lease, out var at) && at <= now)
            {
                _due.Dequeue();
                if (_dueAt.TryGetValue(lease, out var current) && current == at)
                {
                    // Handled once: a duplicate entry for the same time no longer matches, and the
                    // lease stays counted (and closable) until it reschedules or is forgotten.
                    _dueAt[lease] = BeingWoken;
                    (due ??= []).Add(lease);
                }
            }

            _armedFor = long.MaxValue;
            if (!_disposed && _due.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }

        _timer.Apply();

        // Outside the gate: a lease reschedules itself from here.
        foreach (var lease in due ?? [])
        {
            lease.OnDue();
        }
    }

    /// <summary>
    /// Rebuilds the queue from the live due times, dropping the stale entries. A lease being woken
    /// (<see cref="BeingWoken"/>) stays out: it schedules its next wake itself, and an entry due at
    /// the end of time would one day arm the timer for longer than a timer can wait.
    /// </summary>
    private void Compact()
    {
        _due.Clear();
        foreach (var (lease, at) in _dueAt)
        {
            if (at != BeingWoken)
            {
                _due.Enqueue(lease, at);
            }
        }
    }

    /// <summary>
    /// Under the gate: plans the timer for <paramref name="at"/>. The caller applies it after the gate:
    /// a fake clock runs due timers inside <c>Change</c>, this keeper's own included.
    /// </summary>
    private void Arm(long at)
    {
        _armedFor = at;
        _timer.Plan(at);
    }
}
