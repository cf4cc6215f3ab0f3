using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Semaphores: at most <c>maxCount</c> holds of a semaphore key, one lease each, kept by the
/// server's clock in a sorted set (see permits.lua and acquire-semaphore.lua).
/// </summary>
internal sealed partial class RedisLockNode
{
    private Task<NodeResult> TryAcquireSemaphoreAsync(LockTarget target, string id, TimeSpan ttl, string waiterId)
    {
        var fenceArgs = _fenceArgs.Length == 0 ? [_idleExpiryMs, 1] : _fenceArgs;
        var acquiring = LockScripts.AcquireSemaphore.EvaluateAsync(
            _database,
            SemaphoreKeys(target.Key),
            [id, ToMilliseconds(ttl), waiterId, fenceArgs[0], fenceArgs[1], target.MaxCount],
            ReadSemaphoreAcquireReply,
            target);
        return _waitForReplicas > 0 ? ReplicatedAsync(acquiring, target, giveBack: id) : acquiring;
    }

    private Task<NodeResult> ExtendSemaphoreAsync(LockTarget target, string id, TimeSpan ttl)
    {
        var extending = LockScripts.ExtendSemaphore.EvaluateAsync(_database, SemaphoreKeys(target.Key), [id, ToMilliseconds(ttl)], ReadYesNo);
        return _waitForReplicas > 0 ? ReplicatedAsync(extending, target, giveBack: null) : extending;
    }

    private Task<NodeResult> ReleaseSemaphoreAsync(LockTarget target, string id, string notice)
    {
        var line = WakeScripts.ForSemaphore(SemaphoreKeys(target.Key));
        return LockScripts.ReleaseSemaphore.EvaluateAsync(
            _database, line.Keys, [id, notice, _handoffGraceMs, PublishCommand], ReadReleaseReply, (Node: this, Line: line, Notice: notice));
    }

    private async Task PassOnSemaphoreAsync(LockTarget target, string waiterId, string notice)
    {
        var line = WakeScripts.ForSemaphore(SemaphoreKeys(target.Key));
        var woke = await LockScripts.PassOnSemaphore
            .EvaluateAsync(_database, line.Keys, [waiterId, notice, _handoffGraceMs, PublishCommand])
            .ConfigureAwait(false);
        await GoOnWakingAsync(line, notice, (long)woke).ConfigureAwait(false);
    }

    /// <summary>The semaphore's state on this node: limit (0 when it has no entry), live entries with their time left, waiters, fencing counter.</summary>
    public async Task<(int Limit, IReadOnlyList<(string Id, long RemainingMs)> Entries, int Waiters, long Fence)> InspectSemaphoreAsync(string key)
    {
        var reply = (RedisResult[])(await LockScripts.InspectSemaphore.EvaluateAsync(_database, SemaphoreKeys(key), []).ConfigureAwait(false))!;
        var live = (RedisResult[])reply[1]!;
        var entries = new List<(string, long)>(live.Length / 2);
        for (var i = 0; i + 1 < live.Length; i += 2)
        {
            entries.Add(((string)live[i]!, (long)live[i + 1]));
        }

        return (reply[0].IsNull ? 0 : (int)reply[0], entries, (int)reply[2], reply[3].IsNull ? 0 : (long)reply[3]);
    }

    /// <summary>
    /// Frees the permit of <paramref name="holderId"/> (of every holder, when empty) whoever holds
    /// it, and wakes a waiter per permit freed; returns how many permits were freed.
    /// </summary>
    public async Task<int> ForceReleaseSemaphoreAsync(string key, string holderId, string notice)
    {
        var line = WakeScripts.ForSemaphore(SemaphoreKeys(key));
        var reply = (RedisResult[])(await LockScripts.ForceReleaseSemaphore
            .EvaluateAsync(_database, line.Keys, [holderId, notice, _handoffGraceMs, PublishCommand])
            .ConfigureAwait(false))!;
        await GoOnWakingAsync(line, notice, (long)reply[1]).ConfigureAwait(false);
        return (int)reply[0];
    }

    /// <summary>The keys every semaphore script gets, in one hash slot (see permits.lua).</summary>
    private static RedisKey[] SemaphoreKeys(string key) =>
        [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.FenceKey(key), LockKeyLayout.LimitKey(key)];

    /// <summary>
    /// The acquire script's reply: {1, token} taken, {0, ms until the first entry runs out} all
    /// permits taken, {-1, limit} live holders use another maxCount: the caller's argument is wrong,
    /// which <see cref="NodeResult.Rejected"/> carries to the caller as it is (not an outage).
    /// </summary>
    private static NodeResult ReadSemaphoreAcquireReply(RedisResult result, LockTarget target)
    {
        var reply = (RedisResult[])result!;
        return (long)reply[0] switch
        {
            1 => NodeResult.GrantedWith((long)reply[1]),
            0 => NodeResult.Refused((long)reply[1] is var wait and >= 0 ? TimeSpan.FromMilliseconds(wait) : null),
            _ => NodeResult.Rejected(SemaphoreLimit.Mismatch(target.Key, target.MaxCount, (long)reply[1])),
        };
    }
}
