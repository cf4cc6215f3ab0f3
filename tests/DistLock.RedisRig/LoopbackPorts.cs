using System.Net;
using System.Net.Sockets;

namespace DistLock.RedisRig;

/// <summary>Free TCP ports on 127.0.0.1, for servers the tests start.</summary>
public static class LoopbackPorts
{
    /// <summary>A port that was free a moment ago (the caller retries if another process takes it first).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
