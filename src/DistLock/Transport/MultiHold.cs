using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// A set of exclusive locks taken as one, under one lock id (see acquire-all.lua): each member is the
/// lock of its name, so a single lock on a member and a set that contains it exclude each other.
/// Members in one hash slot (every member, off Redis Cluster) are taken by one script, all or none.
/// Across slots they are taken a slot at a time, in one global order (slot, then key), keeping the
/// slots already taken while waiting for the next: as every set is taken in that order, no two
/// waiters can each hold what the other waits for.
/// </summary>
internal sealed class MultiHold : Hold
{
    private readonly string[] _keys;

    // Per node (a few at most): the members by slot, and how many slots a waiting attempt took and
    // keeps while it waits for the next one. Replaced whole under the lock, read without it.
    private readonly Lock _sync = new();
    private NodeState[] _nodes = [];

    /// <param name="keys">The members' lock keys, without duplicates.</param>
    public MultiHold(IEnumerable<string> keys)
    {
        _keys = [.. keys.Order(StringComparer.Ordinal)];
        Key = string.Join('+', _keys);
    }

    /// <summary>The members' keys joined by '+': no lock key has two braced parts, so this names no single lock.</summary>
    public override string Key { get; }

    public override LockMode Mode => LockMode.Exclusive;

    /// <summary>True while a waiting attempt keeps the first slots of the set (Redis Cluster) on some node.</summary>
    public override bool HoldsWhileWaiting => Array.Exists(Volatile.Read(ref _nodes), n => n.Kept > 0);

    /// <summary>
    /// Takes the slots in order. A waiting attempt keeps the slots it took (<see cref="NodeState.Kept"/>), and
    /// the next attempt extends them (still the caller's?) before it asks for the next: a script never
    /// counts a member that holds the caller's own id as free, since with several nodes a late
    /// release from an earlier attempt of the same id could delete it after it was counted.
    /// </summary>
    public override Task<NodeResult> AcquireAsync(ILockNode node, string id, TimeSpan ttl, string queue, bool stay, long arrival)
    {
        var n = ScriptNode.Of(node);
        var state = StateOf(n);

        // Every member in one slot (any node but a cluster's): one script, nothing kept.
        return state.Slots.Length == 1 && state.Kept == 0
            ? n.ConfirmAsync(AcquireSlot(n, state.Slots[0], id, ttl, queue, arrival), this, id)
            : AcquireSlotsAsync(n, state, id, ttl, queue, arrival);
    }

    private async Task<NodeResult> AcquireSlotsAsync(ScriptNode n, NodeState state, string id, TimeSpan ttl, string queue, long arrival)
    {
        var slots = state.Slots;
        var kept = state.Kept;
        for (var i = 0; i < slots.Length; i++)
        {
            if (i < kept && (await n.ExtendWith(this, LockScript.Extend, [.. slots[i].Select(k => (RedisKey)k)], id, ttl).ConfigureAwait(false)).Reply == NodeReply.Granted)
            {
                continue;
            }

            var result = await AcquireSlot(n, slots[i], id, ttl, queue, arrival).ConfigureAwait(false);
            if (result.Reply != NodeReply.Granted)
            {
                Keep(n, queue.Length == 0 ? 0 : i);
                if (queue.Length == 0 && i > 0)
                {
                    // A caller that does not wait keeps nothing of a set it could not take whole.
                    await ReleaseAsync(n, id, ReleaseNotice.New(id)).ConfigureAwait(false);
                }

                // What it keeps lives by its TTL: the waiter looks again (and extends it) within a
                // third of it, however long the rest is taken for.
                var keeping = i > 0 && queue.Length > 0 && result.Reply == NodeReply.Denied;
                return keeping && !(result.HolderTtl <= ttl / 3) ? result with { HolderTtl = ttl / 3 } : result;
            }
        }

        Keep(n, 0);
        return await n.ConfirmAsync(Task.FromResult(NodeResult.Granted), this, id).ConfigureAwait(false);
    }

    /// <summary>One slot's members, all or none (acquire-all.lua).</summary>
    private static Task<NodeResult> AcquireSlot(ScriptNode n, string[] slot, string id, TimeSpan ttl, string queue, long arrival) =>
        n.RunAsync(LockScript.AcquireAll, Lines(slot), n.LineArgs(ReleaseNotice.New(queue), id, ScriptNode.Ms(ttl), queue, arrival), ReadAcquire);

    public override async Task<NodeResult> ExtendAsync(ILockNode node, string id, TimeSpan ttl)
    {
        var n = ScriptNode.Of(node);
        foreach (var slot in Slots(n))
        {
            if ((await n.ExtendWith(this, LockScript.Extend, [.. slot.Select(k => (RedisKey)k)], id, ttl).ConfigureAwait(false)) is { Reply: not NodeReply.Granted } refused)
            {
                return refused;
            }
        }

        return NodeResult.Granted;
    }

    public override Task<NodeResult> GiveBackAsync(ILockNode node, string id, string queue, TimeSpan turn, string notice)
    {
        var n = ScriptNode.Of(node);
        var slots = Slots(n);
        return slots.Length == 1 ? n.GiveBackWith(LockScript.Release, Lines(slots[0]), id, queue, turn, notice) : ReleaseSlotsAsync(n, slots, id, notice);
    }

    public override Task<NodeResult> ReleaseAsync(ILockNode node, string id, string notice)
    {
        var n = ScriptNode.Of(node);
        var slots = Slots(n);
        return slots.Length == 1 ? n.ReleaseWith(LockScript.Release, Lines(slots[0]), id, notice) : ReleaseSlotsAsync(n, slots, id, notice);
    }

    private static async Task<NodeResult> ReleaseSlotsAsync(ScriptNode n, string[][] slots, string id, string notice)
    {
        var all = NodeResult.Granted;
        foreach (var slot in slots.AsEnumerable().Reverse())
        {
            if ((await n.ReleaseWith(LockScript.Release, Lines(slot), id, notice).ConfigureAwait(false)).Reply != NodeReply.Granted)
            {
                all = NodeResult.Denied;
            }
        }

        return all;
    }

    /// <summary>
    /// One token above every earlier token of every member: each slot's script issues one above its
    /// members' and raises them to it; with several slots, those below the highest are raised to it.
    /// </summary>
    public override async Task<NodeResult> FenceAsync(ILockNode node, string id, long floor)
    {
        var n = ScriptNode.Of(node);
        var slots = Slots(n);
        var tokens = new long[slots.Length];
        for (var i = 0; i < slots.Length; i++)
        {
            var issued = await FenceSlotAsync(n, slots[i], id, floor).ConfigureAwait(false);
            if (issued.Reply != NodeReply.Granted)
            {
                return issued;
            }

            tokens[i] = issued.Fence;
        }

        var token = tokens.Max();
        for (var i = 0; i < slots.Length; i++)
        {
            if (tokens[i] < token && (await FenceSlotAsync(n, slots[i], id, token).ConfigureAwait(false)).Reply != NodeReply.Granted)
            {
                return NodeResult.Denied;
            }
        }

        return NodeResult.GrantedWith(token);
    }

    public override async Task LeaveAsync(ILockNode node, string queue, string notice)
    {
        var n = ScriptNode.Of(node);
        foreach (var slot in Slots(n))
        {
            await n.LeaveWith(LockScript.Leave, Lines(slot), queue, notice).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The queue's wake channel and the line's news of every member: a turn can come from any of
    /// them. Only the news to look again is passed on: "taken for that long" on one member says
    /// nothing about the others, and would put off a look another member's news asked for.
    /// </summary>
    public override Task<INodeSubscription> SubscribeAsync(ILockNode node, string queue, Action<string?> onWake, Action<string> onNews) =>
        ScriptNode.Of(node).SubscribeAsync(
            [.. _keys.Select(k => LockKeyLayout.WakeChannel(k, queue)), .. _keys.Select(LockKeyLayout.NewsChannel)],
            (channel, message) =>
            {
                if (channel < _keys.Length || message is null)
                {
                    onWake(message);
                }
                else if (ReleaseNotice.ReadNews(message, out var taken, out _, out _) && !taken)
                {
                    onNews(message);
                }
            });

    /// <summary>acquire-all.lua's answer: taken, or refused with how long and by which members' keys.</summary>
    private static NodeResult ReadAcquire(RedisResult result)
    {
        var answer = ScriptNode.ReadAcquire(result);
        var reply = (RedisResult[])result!;
        return answer.Reply == NodeReply.Granted || reply.Length <= 3 ? answer : answer with { TurnOfOther = (long)reply[2] == 1, Busy = [.. reply.Skip(3).Select(k => (string)k!)] };
    }

    private static Task<NodeResult> FenceSlotAsync(ScriptNode node, string[] slot, string id, long floor) =>
        node.FenceWith(LockScript.Fence, [.. slot.SelectMany(k => new RedisKey[] { k, LockKeyLayout.FenceKey(k) })], id, floor);

    /// <summary>Each member's lock and line, as the scripts that walk the lines take them.</summary>
    private static RedisKey[] Lines(string[] slot) => [.. slot.SelectMany(k => new RedisKey[] { k, LockKeyLayout.WaitersKey(k) })];

    /// <summary>The members by hash slot, in the order they are taken: slot, then key (worked out once per node).</summary>
    private string[][] Slots(ScriptNode node) => StateOf(node).Slots;

    private NodeState StateOf(ScriptNode node)
    {
        foreach (var state in Volatile.Read(ref _nodes))
        {
            if (state.Node == node)
            {
                return state;
            }
        }

        var added = new NodeState(node, [.. _keys.GroupBy(node.SlotOf).OrderBy(slot => slot.Key).Select(slot => slot.ToArray())], 0);
        lock (_sync)
        {
            _nodes = [.. _nodes, added];
        }

        return added;
    }

    private void Keep(ScriptNode node, int slots)
    {
        if (StateOf(node).Kept == slots)
        {
            return;
        }

        lock (_sync)
        {
            _nodes = [.. _nodes.Select(n => n.Node == node ? n with { Kept = slots } : n)];
        }
    }

    private sealed record NodeState(ScriptNode Node, string[][] Slots, int Kept);
}
