namespace DistLock.Algorithm;

/// <summary>
/// A waiter asleep at the head of its local queue, offered to a release of its own manager: the
/// release can give it the lock in the same round trip (<see cref="Hold.HandOverAsync"/>) instead of
/// waking it to claim its turn, which costs a second round trip and a pub/sub delivery per handoff.
/// The waiter and one release race for it: the release claims it, or the waiter withdraws it when it
/// wakes (woken otherwise, timed out, cancelled). A claimed successor always gets its
/// <see cref="Outcome"/>, and makes no attempt of its own until then, so the two never both ask.
/// </summary>
internal sealed class Successor
{
    private const int Parked = 0;
    private const int Claimed = 1;
    private const int Withdrawn = 2;

    private readonly TaskCompletionSource<AttemptResult?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    /// <param name="queue">The waiter's queue: its name in the line.</param>
    /// <param name="id">The waiter's lock id.</param>
    /// <param name="ttl">The time to live it asked for.</param>
    public Successor(string queue, string id, TimeSpan ttl)
    {
        Queue = queue;
        Id = id;
        Ttl = ttl;
    }

    public string Queue { get; }

    public string Id { get; }

    public TimeSpan Ttl { get; }

    /// <summary>Set by the claim: more waiters of the queue follow, so it keeps its place in line.</summary>
    public bool Stay { get; set; }

    /// <summary>The lock, when the release handed it over; null when it did not (the waiter goes on waiting).</summary>
    public Task<AttemptResult?> Outcome => _outcome.Task;

    /// <summary>For the release: true when the waiter is still asleep and is now this release's to hand the lock to.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Parked) == Parked;

    /// <summary>For the waiter, on waking: true when no release claimed it; otherwise it must await <see cref="Outcome"/>.</summary>
    public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, Withdrawn, Parked) == Parked;

    /// <summary>
    /// False when the release that claimed it did not hear from the node in time: the node may yet
    /// hand the hold over (that grant is then given back), so the waiter looks again instead of sleeping on.
    /// </summary>
    public bool Answered { get; private set; } = true;

    /// <summary>For the release that claimed it, once, whatever happened: the lock, or null (see <see cref="Answered"/>).</summary>
    public void Resolve(AttemptResult? handed, bool answered = true)
    {
        if (!_outcome.Task.IsCompleted)
        {
            Answered = answered;
            _outcome.TrySetResult(handed);
        }
    }
}
