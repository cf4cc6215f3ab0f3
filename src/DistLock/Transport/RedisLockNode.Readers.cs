using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Read locks: shared holds of a lock key, a lease each, in the readers' set; the lock key holds
/// <see cref="LockKeyLayout.ReadersMarker"/> while any may hold (see acquire-read.lua).
/// </summary>
internal sealed partial class RedisLockNode
{
    private Task<NodeResult> TryAcquireReadAsync(string key, string id, TimeSpan ttl, string waiterId)
    {
        var acquiring = LockScripts.AcquireRead.EvaluateAsync(
            _database,
            [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.FenceKey(key), LockKeyLayout.ReadersKey(key), LockKeyLayout.AdmittedKey(key)],
            [id, ToMilliseconds(ttl), waiterId, _idleExpiryMs, _fenceArgs.Length == 0 ? 1 : _fenceArgs[1], _handoffGraceMs, PublishCommand],
            ReadAcquireReadReply,
            (Node: this, Key: key));
        return _waitForReplicas > 0 ? ReplicatedAsync(acquiring, new LockTarget(key, LockMode.Read), giveBack: id) : acquiring;
    }

    private Task<NodeResult> ExtendReadAsync(string key, string id, TimeSpan ttl)
    {
        var extending = LockScripts.ExtendRead.EvaluateAsync(_database, [key, LockKeyLayout.ReadersKey(key)], [id, ToMilliseconds(ttl)], ReadYesNo);
        return _waitForReplicas > 0 ? ReplicatedAsync(extending, new LockTarget(key, LockMode.Read), giveBack: null) : extending;
    }

    private Task<NodeResult> ReleaseReadAsync(string key, string id, string notice) =>
        LockScripts.ReleaseRead.EvaluateAsync(
            _database,
            [key, LockKeyLayout.WaitersKey(key), LockKeyLayout.ReadersKey(key)],
            [id, notice, _handoffGraceMs, PublishCommand],
            ReadReleaseReply,
            (Node: this, Line: WakeScripts.ForLock(key), Notice: notice));

    /// <summary>
    /// Like the exclusive acquire's reply; a refusal while nobody holds the lock (PTTL -2) means a
    /// writer waits ahead and has not taken it: it may have died, or sleep until a timer, so the
    /// reader wakes the line for it (pass-on with no departing waiter) instead of waiting for it.
    /// A grant that dropped a dead writer from the line ({1, token, 1}) wakes the line too: the
    /// readers that queued behind that writer may join now (pass-on lets them in).
    /// </summary>
    private static NodeResult ReadAcquireReadReply(RedisResult result, (RedisLockNode Node, string Key) attempt)
    {
        var answer = ReadAcquireReply(result);
        var reply = (RedisResult[])result!;
        if ((answer.Reply == NodeReply.Denied && (long)reply[1] == KeyMissing) || (answer.Reply == NodeReply.Granted && reply.Length > 2))
        {
            _ = attempt.Node.WakeLineQuietlyAsync(attempt.Key);
        }

        return answer;
    }

    private async Task WakeLineQuietlyAsync(string key)
    {
        try
        {
            await PassOnLockAsync(key, string.Empty, ReleaseNotice.New("free")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The reader looks again after RetryDelay.
        }
    }
}
