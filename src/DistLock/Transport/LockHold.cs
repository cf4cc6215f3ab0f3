using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// The exclusive lock (also the write lock of a reader-writer lock: the same hold, under the same
/// key): the lock key holds the owner's lock id. A caller that does not wait takes it with a plain
/// SET NX PX, as cheap as a lock can be; waiters go through acquire.lua and the line.
/// </summary>
internal sealed class LockHold(string key, LockMode mode) : Hold
{
    // Each script is given only the keys it touches (see LockKeyLayout.LockKeys).
    private RedisKey[]? _line;
    private RedisKey[]? _fence;

    public override string Key => key;

    public override LockMode Mode => mode;

    public override bool KeepsPlace => true;

    private RedisKey[] Line => _line ??= [key, LockKeyLayout.WaitersKey(key)];

    public override Task<NodeResult> AcquireAsync(ILockNode node, string id, TimeSpan ttl, string queue, bool stay, long arrival)
    {
        var n = ScriptNode.Of(node);
        var acquiring = queue.Length == 0
            ? n.SetIfAbsentAsync(key, id, ttl).ContinueWith(
                static taken => taken.GetAwaiter().GetResult() ? NodeResult.Granted : NodeResult.Taken,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
            : n.RunAsync(LockScript.Acquire, Line, n.LineArgs(ReleaseNotice.New(queue), id, ScriptNode.Ms(ttl), queue, stay ? "1" : "0", arrival), ScriptNode.ReadLockAcquire);
        return n.ConfirmAsync(acquiring, this, id);
    }

    public override Task<NodeResult> ExtendAsync(ILockNode node, string id, TimeSpan ttl) =>
        ScriptNode.Of(node).ExtendWith(this, LockScript.Extend, [key], id, ttl);

    public override Task<NodeResult> ReleaseAsync(ILockNode node, string id, string notice) =>
        ScriptNode.Of(node).ReleaseWith(LockScript.Release, Line, id, notice);

    public override bool CanHandOver(ILockNode node) => !ScriptNode.Of(node).ConfirmsGrants;

    public override Task<NodeResult> HandOverAsync(ILockNode node, string id, (string Queue, string Id, TimeSpan Ttl, bool Stay) successor, string notice) =>
        ScriptNode.Of(node).HandOverWith(LockScript.Release, Line, id, successor, notice);

    public override Task<NodeResult> GiveBackAsync(ILockNode node, string id, string queue, TimeSpan turn, string notice) =>
        ScriptNode.Of(node).GiveBackWith(LockScript.Release, Line, id, queue, turn, notice);

    public override Task<NodeResult> FenceAsync(ILockNode node, string id, long floor) =>
        ScriptNode.Of(node).FenceWith(LockScript.Fence, _fence ??= [key, LockKeyLayout.FenceKey(key)], id, floor);

    public override Task LeaveAsync(ILockNode node, string queue, string notice) =>
        ScriptNode.Of(node).LeaveWith(LockScript.Leave, Line, queue, notice);

    public override Task<INodeSubscription> SubscribeAsync(ILockNode node, string queue, Action<string?> onWake, Action<string> onNews) =>
        Subscribe(ScriptNode.Of(node), key, queue, onWake, onNews);

    /// <summary>The queue's wake channel and its line's news channel, on <paramref name="node"/>.</summary>
    public static Task<INodeSubscription> Subscribe(ScriptNode node, string key, string queue, Action<string?> onWake, Action<string> onNews) =>
        node.SubscribeAsync(
            [LockKeyLayout.WakeChannel(key, queue), LockKeyLayout.NewsChannel(key)],
            (channel, message) =>
            {
                if (channel == 0 || message is null)
                {
                    onWake(message);
                }
                else
                {
                    onNews(message);
                }
            });
}
