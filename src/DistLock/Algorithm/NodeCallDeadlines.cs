using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace DistLock.Algorithm;

/// <summary>
/// Bounds node calls by the node timeout with one timer for all of them, instead of a timer per
/// call (<c>Task.WaitAsync</c>), whose creation and removal cost the 64-key benchmark about a tenth
/// of its client CPU. Every call of one instance has the same timeout, so calls queue in the order
/// of their deadlines: answered ones leave from the head as new ones come, and the timer is armed
/// for the oldest call still unanswered. A call not answered by its deadline is answered
/// <see cref="NodeReply.Failed"/> with a <see cref="TimeoutException"/>, as with a timer of its own.
/// The waits are pooled objects, so a call in the steady state allocates nothing here.
/// </summary>
internal sealed class NodeCallDeadlines
{
    // At most this many idle waits are kept for reuse.
    private const int PoolLimit = 1024;

    // One instance per clock and timeout: a manager's protocol uses one of each.
    private static readonly ConditionalWeakTable<TimeProvider, ConcurrentDictionary<TimeSpan, NodeCallDeadlines>> Instances = [];
    private static NodeCallDeadlines? s_last;

    private readonly ConcurrentQueue<PendingCall> _calls = new();
    private readonly ConcurrentQueue<PendingCall> _pool = new();
    private readonly SerialTimer _timer;
    private readonly Lock _armGate = new();
    private readonly long _timeoutTicks;
    private int _pooled;

    // 1 while someone takes calls off the head of the queue: one at a time.
    private int _draining;

    // The oldest call still waiting, taken off the queue by a drain (ConcurrentQueue.TryPeek
    // would keep every segment it looks at from being reused); only the drain touches it.
    private PendingCall? _head;

    // The deadline the timer is armed for; long.MaxValue when it is not armed.
    private long _armedFor = long.MaxValue;

    private NodeCallDeadlines(TimeProvider time, TimeSpan timeout)
    {
        Time = time;
        Timeout = timeout;
        _timeoutTicks = time.Ticks(timeout);
        _timer = new SerialTimer(time, static s => ((NodeCallDeadlines)s!).OnTimer(), this);
    }

    public TimeProvider Time { get; }

    public TimeSpan Timeout { get; }

    /// <summary>The instance for <paramref name="time"/> and <paramref name="timeout"/>.</summary>
    public static NodeCallDeadlines For(TimeProvider time, TimeSpan timeout)
    {
        var last = Volatile.Read(ref s_last);
        if (last is not null && ReferenceEquals(last.Time, time) && last.Timeout == timeout)
        {
            return last;
        }

        var found = Instances.GetValue(time, static _ => new()).GetOrAdd(timeout, static (t, time) => new NodeCallDeadlines(time, t), time);
        Volatile.Write(ref s_last, found);
        return found;
    }

    /// <summary>
    /// The answer of <paramref name="call"/> to <paramref name="node"/>, or a <see cref="NodeReply.Failed"/>
    /// one when it fails or is not answered within the timeout. Never throws; await it once.
    /// </summary>
    public ValueTask<NodeResult> Bound(Task<NodeResult> call, ILockNode node)
    {
        if (call.IsCompleted)
        {
            Heard(node);
            return new ValueTask<NodeResult>(AnswerOf(call));
        }

        if (!_pool.TryDequeue(out var pending))
        {
            pending = new PendingCall(this);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }

        var deadline = Time.GetTimestamp() + _timeoutTicks;
        var version = pending.Start(call, node, deadline);
        _calls.Enqueue(pending);
        if (Volatile.Read(ref _armedFor) == long.MaxValue)
        {
            Arm(deadline);
        }

        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            // Not past any deadline, so it times nothing out: answered calls only.
            List<PendingCall>? none = null;
            DrainHead(long.MinValue, ref none, out _);
            Volatile.Write(ref _draining, 0);
        }

        return new ValueTask<NodeResult>(pending, version);
    }

    /// <summary>The node answered in time: it is not silent (written only when it was, as most calls find it so).</summary>
    private static void Heard(ILockNode node)
    {
        if (node.Silent)
        {
            node.Silent = false;
        }
    }

    private static NodeResult AnswerOf(Task<NodeResult> completed)
    {
        try
        {
            return completed.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            return NodeResult.Failed(ex);
        }
    }

    /// <summary>
    /// Takes the answered calls off the head of the queue, and those unanswered past their
    /// deadline at <paramref name="now"/> (into <paramref name="late"/>, still held: the caller
    /// times them out, then releases them); stops at the first call still waiting in time. One
    /// caller at a time (<see cref="_draining"/>).
    /// </summary>
    /// <returns>Whether a call is left waiting, with its deadline.</returns>
    private bool DrainHead(long now, ref List<PendingCall>? late, out long nextDeadline)
    {
        while (_head is not null || _calls.TryDequeue(out _head))
        {
            var head = _head;
            if (!head.Answered && head.Deadline > now)
            {
                nextDeadline = head.Deadline;
                return true;
            }

            _head = null;
            if (head.Answered)
            {
                head.Release();
            }
            else
            {
                (late ??= []).Add(head);
            }
        }

        nextDeadline = long.MaxValue;
        return false;
    }

    /// <summary>
    /// Arms the timer for <paramref name="deadline"/> unless it is armed for an earlier one: planned
    /// under the gate, so that the latest decision is the timer's, and applied after it, since a
    /// fake clock runs due timers inside <c>Change</c>, this instance's own included.
    /// </summary>
    private void Arm(long deadline)
    {
        lock (_armGate)
        {
            if (deadline < _armedFor)
            {
                _armedFor = deadline;
                _timer.Plan(deadline);
            }
        }

        _timer.Apply();
    }

    private void OnTimer()
    {
        // Disarmed before the queue is looked at: a call queued after the look sees it and arms.
        lock (_armGate)
        {
            Interlocked.Exchange(ref _armedFor, long.MaxValue);
        }

        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
        {
            spin.SpinOnce();
        }

        bool waiting;
        long next;
        List<PendingCall>? late = null;
        try
        {
            waiting = DrainHead(Time.GetTimestamp(), ref late, out next);
        }
        finally
        {
            Volatile.Write(ref _draining, 0);
        }

        if (waiting)
        {
            Arm(next);
        }

        // Outside the drain: answering runs the callers' continuations. Held until answered, so
        // that a call completing meanwhile cannot hand this wait to a new call first.
        foreach (var call in late ?? [])
        {
            call.TimeOut();
            call.Release();
        }
    }

    private void Return(PendingCall pending)
    {
        if (Interlocked.Increment(ref _pooled) <= PoolLimit)
        {
            _pool.Enqueue(pending);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }

    /// <summary>
    /// One call in flight, answered by the node or by the timer at its deadline, whichever comes
    /// first. Three parties hold it: the caller until it has the answer, the queue until the call
    /// leaves it, and the call until it completes (a timed-out call still completes later); the
    /// last to let go returns it to the pool.
    /// </summary>
    private sealed class PendingCall : IValueTaskSource<NodeResult>
    {
        private readonly NodeCallDeadlines _owner;
        private readonly Action _onCallCompleted;
        private ManualResetValueTaskSourceCore<NodeResult> _answer;
        private Task<NodeResult>? _call;
        private ILockNode? _node;
        private int _answered;
        private int _holders;

        public PendingCall(NodeCallDeadlines owner)
        {
            _owner = owner;
            _onCallCompleted = OnCallCompleted;
        }

        public long Deadline { get; private set; }

        public bool Answered => Volatile.Read(ref _answered) == 1;

        public short Start(Task<NodeResult> call, ILockNode node, long deadline)
        {
            _call = call;
            _node = node;
            Deadline = deadline;
            _answered = 0;
            _holders = 3;
            var version = _answer.Version;
            call.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onCallCompleted);
            return version;
        }

        public void TimeOut()
        {
            if (Interlocked.Exchange(ref _answered, 1) == 0)
            {
                _node!.Silent = true;
                _answer.SetResult(NodeResult.Failed(
                    new TimeoutException($"Redis node {_node!.Name} did not answer within {_owner.Timeout.TotalMilliseconds:F0} ms.")));
            }
        }

        public NodeResult GetResult(short token)
        {
            var answer = _answer.GetResult(token);
            Release();
            return answer;
        }

        public ValueTaskSourceStatus GetStatus(short token) => _answer.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _answer.OnCompleted(continuation, state, token, flags);

        public void Release()
        {
            if (Interlocked.Decrement(ref _holders) == 0)
            {
                _call = null;
                _node = null;
                _answer.Reset();
                _owner.Return(this);
            }
        }

        private void OnCallCompleted()
        {
            if (Interlocked.Exchange(ref _answered, 1) == 0)
            {
                Heard(_node!);
                _answer.SetResult(AnswerOf(_call!));
            }

            Release();
        }
    }
}
