using DistLock.Algorithm;

namespace DistLock.Transport;

/// <summary>Read locks in process, with the rules of acquire-read.lua and release-read.lua.</summary>
internal sealed partial class InMemoryLockNode
{
    private Task<NodeResult> TryAcquireRead(string key, string id, TimeSpan ttl, string waiterId) =>
        throw new NotSupportedException("Read locks are not implemented yet.");

    private Task<NodeResult> ExtendRead(string key, string id, TimeSpan ttl) =>
        throw new NotSupportedException("Read locks are not implemented yet.");

    private Task<NodeResult> ReleaseRead(string key, string id, string notice) =>
        throw new NotSupportedException("Read locks are not implemented yet.");
}
