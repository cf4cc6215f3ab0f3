using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// One of the <c>maxCount</c> permits of a semaphore: an entry among its holders, with a lease on the
/// server's clock (see permits.lua). A semaphore has keys of its own, apart from the lock of the same name.
/// </summary>
internal sealed class SemaphoreHold(string key, int maxCount) : Hold
{
    // Each script is given only the keys it touches (see LockKeyLayout.LockKeys).
    private RedisKey[]? _keys;
    private RedisKey[]? _fence;

    public override string Key => key;

    public override LockMode Mode => LockMode.Semaphore;

    private RedisKey[] Keys => _keys ??= [key, LockKeyLayout.WaitersKey(key), key + LockKeyLayout.LimitSuffix];

    public override Task<NodeResult> AcquireAsync(ILockNode node, string id, TimeSpan ttl, string queue, bool stay, long arrival)
    {
        var n = ScriptNode.Of(node);
        var acquiring = n.RunAsync(LockScript.AcquireSemaphore, Keys, n.LineArgs(ReleaseNotice.New(id), id, ScriptNode.Ms(ttl), queue, maxCount, arrival), ReadAcquire);
        return n.ConfirmAsync(acquiring, this, id);
    }

    public override Task<NodeResult> ExtendAsync(ILockNode node, string id, TimeSpan ttl) =>
        ScriptNode.Of(node).ExtendWith(this, LockScript.ExtendSemaphore, Keys, id, ttl);

    public override Task<NodeResult> ReleaseAsync(ILockNode node, string id, string notice) =>
        ScriptNode.Of(node).ReleaseWith(LockScript.ReleaseSemaphore, Keys, id, notice);

    public override Task<NodeResult> FenceAsync(ILockNode node, string id, long floor) =>
        ScriptNode.Of(node).FenceWith(LockScript.FenceSemaphore, _fence ??= [key, LockKeyLayout.FenceKey(key)], id, floor);

    public override Task LeaveAsync(ILockNode node, string queue, string notice) =>
        ScriptNode.Of(node).LeaveWith(LockScript.LeaveSemaphore, Keys, queue, notice);

    public override Task<INodeSubscription> SubscribeAsync(ILockNode node, string queue, Action<string?> onWake, Action<string> onNews) =>
        LockHold.Subscribe(ScriptNode.Of(node), key, queue, onWake, onNews);

    /// <summary>
    /// {1} taken, {0, ms until the first entry runs out} all permits taken, {-1, limit} live holders use
    /// another maxCount: the caller's argument is wrong, which <see cref="NodeResult.Rejected"/> carries
    /// to the caller as it is (not an outage).
    /// </summary>
    private NodeResult ReadAcquire(RedisResult result)
    {
        var reply = (RedisResult[])result!;
        return (long)reply[0] switch
        {
            1 => NodeResult.Granted,
            0 => NodeResult.Refused((long)reply[1] is var wait and >= 0 ? TimeSpan.FromMilliseconds(wait) : null),
            _ => NodeResult.Rejected(SemaphoreLimit.Mismatch(key, maxCount, (long)reply[1])),
        };
    }
}
