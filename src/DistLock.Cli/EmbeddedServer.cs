using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Garnet;

namespace DistLock.Cli;

/// <summary>
/// A Redis-compatible server (Microsoft Garnet) inside this process, with Lua and pub/sub, for
/// local development and the demo. Nothing is stored on disk.
/// </summary>
internal sealed class EmbeddedServer : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedServer(GarnetServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Starts on <paramref name="port"/>, or on a free loopback port when it is 0.</summary>
    public static EmbeddedServer Start(int port, bool quiet)
    {
        port = port == 0 ? FreePort() : port;
        EnsureFree(port);
        // Lua transaction mode makes each script atomic (its keys are locked while it runs); without
        // it Garnet interleaves scripts, and a compare-and-delete is no longer one step.
        var arguments = new[]
        {
            "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--lua", "true", "--lua-transaction-mode", "true",
        };

        // Garnet prints a banner to stdout; the demo's screen and scripts that parse output do not want it.
        var stdout = Console.Out;
        if (quiet)
        {
            Console.SetOut(TextWriter.Null);
        }

        try
        {
            var server = new GarnetServer(arguments);
            server.Start();
            return new EmbeddedServer(server, port);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new CliException(ExitCodes.Failure, $"could not start the embedded server on port {port}: {ex.Message}", ex);
        }
        finally
        {
            Console.SetOut(stdout);
        }
    }

    public void Dispose() => _server.Dispose();

    /// <summary>A taken port is a clear error (exit 69) instead of Garnet's own exception.</summary>
    private static void EnsureFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new CliException(ExitCodes.Unavailable, $"port {port} on 127.0.0.1 is in use; pick another with --port", ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new CliException(ExitCodes.Unavailable, $"not allowed to listen on port {port}; pick one above 1023 with --port", ex);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
