using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>Read locks: shared holds of a lock key, one lease each (see acquire-read.lua).</summary>
internal sealed partial class RedisLockNode
{
    private Task<NodeResult> TryAcquireReadAsync(string key, string id, TimeSpan ttl, string waiterId) =>
        throw new NotSupportedException("Read locks are not implemented yet.");

    private Task<NodeResult> ExtendReadAsync(string key, string id, TimeSpan ttl) =>
        throw new NotSupportedException("Read locks are not implemented yet.");

    private Task<NodeResult> ReleaseReadAsync(string key, string id, string notice) =>
        throw new NotSupportedException("Read locks are not implemented yet.");
}
