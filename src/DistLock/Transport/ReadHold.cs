using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// A read lock: a lease of its own among the lock's readers, while the lock key holds the readers'
/// marker (see acquire-read.lua). Readers wait in the lock's line with the writers; the readers of
/// one queue go in together.
/// </summary>
internal sealed class ReadHold(string key) : Hold
{
    // Each script is given only the keys it touches (see LockKeyLayout.LockKeys).
    private RedisKey[]? _keys;
    private RedisKey[]? _readers;
    private RedisKey[]? _line;
    private RedisKey[]? _fence;

    public override string Key => key;

    public override LockMode Mode => LockMode.Read;

    public override bool Shared => true;

    private RedisKey[] Keys => _keys ??= [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.ReadersKey(key), key + ":admitted"];

    private RedisKey[] Line => _line ??= [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.ReadersKey(key)];

    public override string NewQueueId() => LockKeyLayout.ReaderPrefix + base.NewQueueId();

    public override Task<NodeResult> AcquireAsync(ILockNode node, string id, TimeSpan ttl, string queue, bool stay, long arrival)
    {
        var n = ScriptNode.Of(node);
        var acquiring = n.RunAsync(LockScript.AcquireRead, Keys, n.LineArgs(ReleaseNotice.New(id), id, ScriptNode.Ms(ttl), queue, stay ? "1" : "0", arrival), ScriptNode.ReadAcquire);
        return n.ConfirmAsync(acquiring, this, id);
    }

    public override Task<NodeResult> ExtendAsync(ILockNode node, string id, TimeSpan ttl) =>
        ScriptNode.Of(node).ExtendWith(this, LockScript.ExtendRead, _readers ??= [key, LockKeyLayout.ReadersKey(key)], id, ttl);

    public override Task<NodeResult> ReleaseAsync(ILockNode node, string id, string notice) =>
        ScriptNode.Of(node).ReleaseWith(LockScript.ReleaseRead, Line, id, notice);

    public override Task<NodeResult> GiveBackAsync(ILockNode node, string id, string queue, TimeSpan turn, string notice) =>
        ScriptNode.Of(node).GiveBackWith(LockScript.ReleaseRead, Line, id, queue, turn, notice);

    public override Task<NodeResult> FenceAsync(ILockNode node, string id, long floor) =>
        ScriptNode.Of(node).FenceWith(LockScript.FenceRead, _fence ??= [key, LockKeyLayout.ReadersKey(key), LockKeyLayout.FenceKey(key)], id, floor);

    public override Task LeaveAsync(ILockNode node, string queue, string notice) =>
        ScriptNode.Of(node).LeaveWith(LockScript.Leave, [key, LockKeyLayout.WaitersKey(key)], queue, notice);

    public override Task<INodeSubscription> SubscribeAsync(ILockNode node, string queue, Action<string?> onWake, Action<string> onNews) =>
        LockHold.Subscribe(ScriptNode.Of(node), key, queue, onWake, onNews);
}
