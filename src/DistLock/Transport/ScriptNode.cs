using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// A node that runs the scripts: a Redis deployment (<see cref="RedisLockNode"/>) or the in-process
/// keyspace (<see cref="InMemoryLockNode"/>, which runs the same scripts). The holds build the calls
/// and read the answers; a node only carries them, so every kind of hold works on both.
/// </summary>
internal abstract class ScriptNode : ILockNode
{
    /// <param name="graceMs">How long a woken queue has to claim its turn.</param>
    /// <param name="idleExpiryMs">How long a fencing counter outlives its last token.</param>
    /// <param name="fenceResolution">The resolution of the counters' clock floor, in µs (see next-fence.lua).</param>
    protected ScriptNode(long graceMs, long idleExpiryMs, long fenceResolution)
    {
        GraceMs = graceMs;
        IdleExpiryMs = idleExpiryMs;
        FenceResolution = fenceResolution;
    }

    public abstract string Name { get; }

    public long GraceMs { get; }

    public long IdleExpiryMs { get; }

    public long FenceResolution { get; }

    /// <summary>PUBLISH, or SPUBLISH where a plain publish would not count the listeners (Redis Cluster 7).</summary>
    public virtual string PublishCommand => "PUBLISH";

    public virtual void EnsureCompatible()
    {
    }

    public bool Silent { get; set; }

    /// <summary>The node behind <paramref name="node"/>: every node the algorithm is given runs scripts.</summary>
    public static ScriptNode Of(ILockNode node) => (ScriptNode)node;

    public abstract Task<RedisResult> EvaluateAsync(LockScript script, RedisKey[] keys, RedisValue[] args);

    /// <summary>The Redis Cluster hash slot of <paramref name="key"/>; the same for every key where the node is not a cluster.</summary>
    public virtual int SlotOf(string key) => 0;

    /// <summary>SET NX PX: the whole acquire of a lock by a caller that does not wait.</summary>
    public abstract Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl);

    /// <summary>The keys that match the Redis glob <paramref name="pattern"/>, each page of the listing within <paramref name="timeout"/>.</summary>
    public abstract IAsyncEnumerable<string> KeysAsync(string pattern, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>PING: how long the answer took.</summary>
    public abstract Task<TimeSpan> PingAsync();

    /// <summary>Listens on <paramref name="channels"/>; the handler gets the channel's index and the message (null: the connection changed).</summary>
    public abstract Task<INodeSubscription> SubscribeAsync(string[] channels, Action<int, string?> onMessage);

    /// <summary>Runs a script and reads its answer with <paramref name="read"/> (static: no closure per call).</summary>
    public virtual Task<NodeResult> RunAsync(LockScript script, RedisKey[] keys, RedisValue[] args, Func<RedisResult, NodeResult> read) =>
        EvaluateAsync(script, keys, args).ContinueWith(
            static (done, read) => ((Func<RedisResult, NodeResult>)read!)(done.GetAwaiter().GetResult()),
            read,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    /// <summary>A release script's call: {1} released, {0} not held.</summary>
    public Task<NodeResult> ReleaseWith(LockScript script, RedisKey[] keys, string id, string notice) =>
        RunAsync(script, keys, LineArgs(notice, id), ReadYesNo);

    /// <summary>A release script's give-back (see <see cref="Hold.GiveBackAsync"/>): {1} given back, {0} not held.</summary>
    public Task<NodeResult> GiveBackWith(LockScript script, RedisKey[] keys, string id, string queue, TimeSpan turn, string notice) =>
        RunAsync(script, keys, LineArgs(notice, id, queue, Ms(turn)), ReadYesNo);

    /// <summary>A release script's handoff (see <see cref="Hold.HandOverAsync"/>): {2} released and handed to the successor, {1} released, {0} not held.</summary>
    public Task<NodeResult> HandOverWith(LockScript script, RedisKey[] keys, string id, (string Queue, string Id, TimeSpan Ttl, bool Stay) successor, string notice) =>
        RunAsync(script, keys, LineArgs(notice, id, successor.Queue, successor.Id, Ms(successor.Ttl), successor.Stay ? "1" : "0"), ReadHandOver);

    /// <summary>
    /// True when a grant counts only once replicas confirm it (see <see cref="ConfirmAsync"/>): a
    /// release then does not hand the lock over, which the replicas would have to confirm too.
    /// </summary>
    public virtual bool ConfirmsGrants => false;

    /// <summary>An extend script's call, confirmed by the replicas where the node is asked to wait for them.</summary>
    public Task<NodeResult> ExtendWith(Hold hold, LockScript script, RedisKey[] keys, string id, TimeSpan ttl) =>
        ConfirmAsync(RunAsync(script, keys, [id, Ms(ttl)], ReadYesNo), hold, newHolder: null);

    /// <summary>A fence script's call (see next-fence.lua): a token, or 0 when the caller does not hold.</summary>
    public Task<NodeResult> FenceWith(LockScript script, RedisKey[] keys, string id, long floor) =>
        RunAsync(script, keys, [id, IdleExpiryMs, FenceResolution, floor], ReadToken);

    /// <summary>A leave script's call: the queue gives up its place, and passes on a turn it was handed.</summary>
    public Task LeaveWith(LockScript script, RedisKey[] keys, string queue, string notice) =>
        EvaluateAsync(script, keys, LineArgs(notice, queue));

    /// <summary>The arguments of a script that walks the line (see line.lua): grace, publish command and notice first.</summary>
    public RedisValue[] LineArgs(string notice, params RedisValue[] rest) => [GraceMs, PublishCommand, notice, .. rest];

    /// <summary>
    /// Waits until replicas confirm what <paramref name="granting"/> wrote, where the node is asked
    /// to (<see cref="RedisLockManagerOptions.WaitForReplicas"/>); a grant they do not confirm in time does not
    /// count, and a new hold (<paramref name="newHolder"/>: its id; null for an extension) is released
    /// first. Nothing to wait for here.
    /// </summary>
    public virtual Task<NodeResult> ConfirmAsync(Task<NodeResult> granting, Hold hold, string? newHolder) => granting;

    /// <summary>Milliseconds for PX and PEXPIRE: rounded up, never shortening what the caller asked for.</summary>
    public static long Ms(TimeSpan ttl) => (long)Math.Ceiling(ttl.TotalMilliseconds);

    /// <summary>1 as granted, 0 as denied: the answer of extend and release.</summary>
    public static NodeResult ReadYesNo(RedisResult result) => (long)result == 1 ? NodeResult.Granted : NodeResult.Denied;

    /// <summary>2 as granted and handed over, 1 as granted, 0 as denied: the answer of a release with a successor.</summary>
    public static NodeResult ReadHandOver(RedisResult result) => (long)result switch
    {
        2 => NodeResult.ReleasedToSuccessor,
        1 => NodeResult.Granted,
        _ => NodeResult.Denied,
    };

    /// <summary>A fencing token, or 0 when the caller does not hold.</summary>
    public static NodeResult ReadToken(RedisResult result) => (long)result is > 0 and var token ? NodeResult.GrantedWith(token) : NodeResult.Denied;

    /// <summary>
    /// {1} taken ({1, 1}: the turn handed to the caller's queue), {0, pttl} refused: how long
    /// the hold lasts (-2, the key gone although the take failed: it expired between two commands on
    /// a server that does not stop its clock for a script, as Garnet: look again at once; -1: unknown;
    /// -3: the caller's own grant from an attempt whose answer it did not wait for, being undone).
    /// </summary>
    public static NodeResult ReadAcquire(RedisResult result)
    {
        var reply = (RedisResult[])result!;
        if ((long)reply[0] == 1)
        {
            return reply.Length > 1 ? NodeResult.GrantedTurn : NodeResult.Granted;
        }

        var ms = (long)reply[1];
        if (ms == -3)
        {
            return NodeResult.RefusedByOwnLateGrant;
        }

        return NodeResult.Refused(ms >= 0 ? TimeSpan.FromMilliseconds(ms) : ms == -2 ? TimeSpan.Zero : null);
    }

    /// <summary>
    /// acquire.lua's answer: as <see cref="ReadAcquire"/>, and on a refusal, what holds the node: a
    /// lock id, or a turn kept for another queue (see <see cref="NodeResult.IsRivalTurn"/>).
    /// </summary>
    public static NodeResult ReadLockAcquire(RedisResult result)
    {
        var answer = ReadAcquire(result);
        var reply = (RedisResult[])result!;
        if (answer.Reply != NodeReply.Denied || answer.OwnLateGrant || reply.Length <= 2 || (string?)reply[2] is not { Length: > 0 } holder || holder == LockKeyLayout.ReadersMarker)
        {
            return answer;
        }

        return holder.StartsWith(LockKeyLayout.ReservedPrefix, StringComparison.Ordinal) ? answer with { TurnOfOther = true } : answer with { HeldBy = holder };
    }
}
