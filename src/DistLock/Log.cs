using Microsoft.Extensions.Logging;

namespace DistLock;

/// <summary>DistLock's log events. Event ids are stable; lock values are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "Redis failed during {Operation} of {Key} on {Failed} of {Nodes} node(s)")]
    public static partial void NodeFailed(ILogger logger, Exception? exception, string operation, string key, int failed, int nodes);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning,
        Message = "Could not undo a partial acquisition of {Key} on {Node}; the key expires with its TTL")]
    public static partial void CleanupFailed(ILogger logger, Exception? exception, string key, string node);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug,
        Message = "A late grant of {Key} from {Node} was released")]
    public static partial void LateGrantReleased(ILogger logger, string key, string node);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "Acquiring {Key} failed: Redis unavailable")]
    public static partial void AcquireBackendFailed(ILogger logger, Exception? exception, string key);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug,
        Message = "Gave up acquiring {Key} after {Attempts} attempt(s)")]
    public static partial void AcquireGaveUp(ILogger logger, string key, int attempts);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning,
        Message = "Releasing {Key} failed while disposing the lock handle; the key expires with its TTL")]
    public static partial void ReleaseOnDisposeFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning,
        Message = "Lock {Key} is lost: {Reason}")]
    public static partial void LockLost(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning,
        Message = "Extending {Key} failed: Redis unavailable; retrying until the lock's validity runs out")]
    public static partial void ExtensionFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning,
        Message = "Redis at {Endpoint} has maxmemory-policy {Policy} (maxmemory {MaxMemory}): under memory pressure it can evict lock keys and let a second holder in; set maxmemory-policy noeviction")]
    public static partial void EvictionPolicy(ILogger logger, string endpoint, string policy, string maxMemory);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning,
        Message = "Redis at {Node} is too old for DistLock (it needs 2.6.12 or later); locks are refused")]
    public static partial void ServerTooOld(ILogger logger, Exception exception, string node);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning,
        Message = "The lock on {Resource} ({Key}) was never released: its handle was garbage-collected while the lock was held, so DistLock released it. Release handles with 'await using' or ReleaseAsync")]
    public static partial void HandleAbandoned(ILogger logger, string resource, string key);
}
