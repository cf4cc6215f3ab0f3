using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Warns when a server may evict keys: under memory pressure, any policy but <c>noeviction</c>
/// can delete a held lock (volatile-* policies pick exactly keys with a TTL, as locks are) or a
/// fencing counter, and then a second holder gets in.
/// </summary>
internal static class EvictionPolicyCheck
{
    /// <summary>
    /// Checks every server of every node, side by side (a server that hangs costs the node timeout
    /// once, not once per server); a server that hides INFO is skipped, never an error.
    /// </summary>
    public static Task WarnIfEvictingAsync(IEnumerable<IConnectionMultiplexer> nodes, ILogger logger, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Task.WhenAll(nodes.SelectMany(multiplexer => multiplexer.GetEndPoints().Select(endpoint => CheckAsync(multiplexer, endpoint, logger, timeout, cancellationToken))));

    private static async Task CheckAsync(IConnectionMultiplexer multiplexer, System.Net.EndPoint endpoint, ILogger logger, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var server = multiplexer.GetServer(endpoint);
            if (!server.IsConnected)
            {
                return;
            }

            var values = await ServerInfo.ReadAsync(server, "memory", timeout, cancellationToken).ConfigureAwait(false);
            if (values.TryGetValue("maxmemory_policy", out var policy) && policy != "noeviction")
            {
                Log.EvictionPolicy(logger, endpoint.ToString() ?? "?", policy, values.GetValueOrDefault("maxmemory", "?"));
            }
        }
        catch (Exception ex) when (ex is RedisException or RedisCommandException or TimeoutException or ObjectDisposedException)
        {
            // Not knowing the policy is no reason to refuse locks; the version check covers old servers.
        }
    }
}
