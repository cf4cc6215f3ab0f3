using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Refuses servers older than 2.6.12, the first with <c>SET key value NX PX ttl</c>. The version
/// is the one the client learned at connect (INFO), so the check costs no round trip; a server
/// that cannot be seen yet is checked on a later call.
/// </summary>
internal sealed class RedisVersionGate
{
    public static readonly Version Minimum = new(2, 6, 12);

    private readonly IConnectionMultiplexer _multiplexer;
    private volatile bool _passed;

    public RedisVersionGate(IConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    public void Check()
    {
        if (_passed)
        {
            return;
        }

        var seen = false;
        foreach (var server in _multiplexer.GetServers())
        {
            if (!server.IsConnected)
            {
                continue;
            }

            seen = true;
            Ensure(server.Version, server.EndPoint.ToString() ?? "?");
        }

        _passed = seen;
    }

    /// <summary>Throws when <paramref name="version"/> is too old for DistLock.</summary>
    public static void Ensure(Version version, string endpoint)
    {
        if (version < Minimum)
        {
            throw new DistLockException(
                $"Redis at {endpoint} reports version {version}; DistLock needs {Minimum} or later " +
                "(SET with NX and PX). Upgrade the server, or set RedisLockManagerOptions.VersionCheck to false " +
                "if the version reported is wrong.");
        }
    }
}
