using Microsoft.Extensions.Logging;

namespace DistLock.Algorithm;

/// <summary>What the leases of one manager share: where extensions go, who wakes them, and where they report.</summary>
/// <param name="Protocol">Sends the extensions.</param>
/// <param name="Keeper">Wakes each lease when its next extension or its deadline is due.</param>
/// <param name="Logger">Where lost locks and failed extensions are logged.</param>
/// <param name="Metrics">The manager's instruments.</param>
internal sealed record LeaseContext(RedlockProtocol Protocol, LeaseKeeper Keeper, ILogger Logger, LockMetrics Metrics);
