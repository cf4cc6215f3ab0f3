using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>
/// Read locks in process, with the rules of acquire-read.lua, extend-read.lua and release-read.lua:
/// the lock key holds <see cref="LockKeyLayout.ReadersMarker"/> for as long as the longest lease,
/// and each reader's lease is kept on its own.
/// </summary>
internal sealed partial class InMemoryLockNode
{
    // Per lock key: each reader's id and when its lease runs out (a timestamp). Meaningful only
    // while the lock key holds the readers' marker.
    private readonly Dictionary<string, Dictionary<string, long>> _readers = new(StringComparer.Ordinal);

    // Per lock key: places in line whose readers were let in lately, and until when (a timestamp):
    // the other readers waiting under the same place follow (see acquire-read.lua).
    private readonly Dictionary<string, Dictionary<string, long>> _admitted = new(StringComparer.Ordinal);

    private Task<NodeResult> TryAcquireRead(string key, string id, TimeSpan ttl, string waiterId)
    {
        Action? wake = null;
        NodeResult answer;
        lock (_gate)
        {
            SweepWhenGrown();
            var current = Current(key);
            // An id holds at most one read lock (a second hold would share, and lose, the first one's lease).
            var holding = current == LockKeyLayout.ReadersMarker && _readers.TryGetValue(key, out var held)
                && held.TryGetValue(id, out var heldUntil) && heldUntil > _time.GetTimestamp();
            var droppedWriters = 0;
            if ((current is not null && current != LockKeyLayout.ReadersMarker) || holding || WriterAhead(key, waiterId, ref droppedWriters))
            {
                JoinLine(key, waiterId);
                if (current is null)
                {
                    // A writer ahead has not taken the free lock: wake the line for it (see ReadAcquireReadReply).
                    wake = WakeNext(key, ReleaseNotice.New("free"));
                    return Deliver(wake, NodeResult.Refused(null));
                }

                return Task.FromResult(NodeResult.Refused(_time.GetElapsedTime(_time.GetTimestamp(), _keys[key].ExpiresAt)));
            }

            var readers = LiveReaders(key, fresh: current is null);
            readers[id] = Expiry(ttl);
            var longest = Math.Max(current is null ? 0 : _keys[key].ExpiresAt, Expiry(ttl));
            _keys[key] = (LockKeyLayout.ReadersMarker, longest);
            if (waiterId.Length > 0 && _lines.TryGetValue(key, out var line) && line.Exists(w => w.Id == waiterId))
            {
                Leave(key, waiterId);
                Admitted(key)[waiterId] = Expiry(_handoffGrace);
            }
            answer = NodeResult.GrantedWith(NextFence(key));
            if (droppedWriters > 0)
            {
                // Readers that queued behind a dead writer may join now (see acquire-read.lua).
                wake = LetInReadersAtTheHead(key, ReleaseNotice.New("free"));
            }
        }

        return Deliver(wake, answer);
    }

    private Task<NodeResult> ExtendRead(string key, string id, TimeSpan ttl)
    {
        lock (_gate)
        {
            if (Current(key) != LockKeyLayout.ReadersMarker || !_readers.TryGetValue(key, out var readers)
                || !readers.TryGetValue(id, out var expires) || expires <= _time.GetTimestamp())
            {
                return Task.FromResult(NodeResult.Denied);
            }

            readers[id] = Expiry(ttl);
            _keys[key] = (LockKeyLayout.ReadersMarker, Math.Max(_keys[key].ExpiresAt, Expiry(ttl)));
            return Task.FromResult(NodeResult.Granted);
        }
    }

    private Task<NodeResult> ReleaseRead(string key, string id, string notice)
    {
        Action? wake = null;
        lock (_gate)
        {
            if (Current(key) != LockKeyLayout.ReadersMarker || !_readers.TryGetValue(key, out var readers) || !readers.Remove(id, out var expires))
            {
                return Task.FromResult(NodeResult.Denied);
            }

            var now = _time.GetTimestamp();
            var held = expires > now;
            readers = LiveReaders(key, fresh: false);
            if (readers.Count > 0)
            {
                // The marker lives exactly as long as the longest lease left.
                _keys[key] = (LockKeyLayout.ReadersMarker, readers.Values.Max());
            }
            else
            {
                _readers.Remove(key);
                if (_lines.TryGetValue(key, out var line) && line.Count > 0 && line[0].Marked && IsReader(line[0].Id))
                {
                    // Readers the same release woke have not come yet: theirs for another grace. The
                    // writer behind them stands by, so that it looks again if they never come.
                    _keys[key] = (LockKeyLayout.ReadersMarker, Expiry(_handoffGrace));
                    var next = line.FirstOrDefault(w => !(w.Marked && IsReader(w.Id)));
                    if (next.Id is not null && !IsReader(next.Id) && _listeners.GetValueOrDefault(LockKeyLayout.WakeChannel(key, next.Id)) is { } standby)
                    {
                        wake = () => Notify(standby, ReleaseNotice.Standby(notice));
                    }
                }
                else
                {
                    _keys.Remove(key);
                    wake = WakeNext(key, notice);
                }
            }

            return Deliver(wake, held ? NodeResult.Granted : NodeResult.Denied);
        }
    }

    /// <summary>
    /// True when a writer waits in line ahead of <paramref name="waiterId"/> ("" for a reader not
    /// in line: anywhere). A writer nobody listens for is not waiting: it is dropped from the line
    /// (as acquire-read.lua's probe does), so that a dead writer cannot hold readers back.
    /// </summary>
    private bool WriterAhead(string key, string waiterId, ref int dropped)
    {
        if (_admitted.TryGetValue(key, out var admitted) && admitted.TryGetValue(waiterId, out var until) && until > _time.GetTimestamp())
        {
            return false;
        }

        if (!_lines.TryGetValue(key, out var line))
        {
            return false;
        }

        var index = 0;
        while (index < line.Count)
        {
            var waiter = line[index];
            if (waiter.Id == waiterId)
            {
                return false;
            }

            // A marked writer had its turn (see acquire-read.lua).
            if (IsReader(waiter.Id) || waiter.Marked)
            {
                index++;
            }
            else if (_listeners.ContainsKey(LockKeyLayout.WakeChannel(key, waiter.Id)))
            {
                return true;
            }
            else
            {
                line.RemoveAt(index);
                dropped++;
            }
        }

        if (line.Count == 0)
        {
            _lines.Remove(key);
        }

        return false;
    }

    /// <summary>The places of <paramref name="key"/>'s line let in lately, without those whose grace is over.</summary>
    private Dictionary<string, long> Admitted(string key)
    {
        if (!_admitted.TryGetValue(key, out var admitted))
        {
            admitted = _admitted[key] = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        var now = _time.GetTimestamp();
        foreach (var (waiter, until) in admitted)
        {
            if (until <= now)
            {
                admitted.Remove(waiter);
            }
        }

        return admitted;
    }

    /// <summary>The readers of <paramref name="key"/> whose leases have not run out; <paramref name="fresh"/> drops stale ones (no marker).</summary>
    private Dictionary<string, long> LiveReaders(string key, bool fresh)
    {
        if (fresh || !_readers.TryGetValue(key, out var readers))
        {
            readers = _readers[key] = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        var now = _time.GetTimestamp();
        foreach (var (reader, expires) in readers)
        {
            if (expires <= now)
            {
                readers.Remove(reader);
            }
        }

        return readers;
    }

    /// <summary>Runs the wakes chosen under the gate (the caller has left it or is about to), then answers.</summary>
    private static Task<NodeResult> Deliver(Action? wake, NodeResult answer)
    {
        wake?.Invoke();
        return Task.FromResult(answer);
    }
}
