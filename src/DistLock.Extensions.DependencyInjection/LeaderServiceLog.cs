using Microsoft.Extensions.Logging;

namespace DistLock;

/// <summary>The leader service's log events (ids 100-199: the library uses 1-99).</summary>
internal static partial class LeaderServiceLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Leading {Election} (term {FencingToken})")]
    public static partial void Leading(ILogger logger, string election, long fencingToken);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Lost the leadership of {Election} (term {FencingToken})")]
    public static partial void Lost(ILogger logger, string election, long fencingToken);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "The work of {Election} failed in term {FencingToken}; resigned, campaigning again in {RestartDelay}")]
    public static partial void WorkFailed(ILogger logger, Exception exception, string election, long fencingToken, TimeSpan restartDelay);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "The work of {Election} returned in term {FencingToken}; resigned, campaigning again in {RestartDelay}")]
    public static partial void WorkReturned(ILogger logger, string election, long fencingToken, TimeSpan restartDelay);
}
