using System.Net;
using System.Net.Sockets;

namespace DistLock.Cli.Tests;

/// <summary>
/// A loopback relay to a Redis server that holds the server's replies back until a moment after the
/// first connection came, as a server slow to finish the handshake on a busy machine does. What the
/// client sends goes through at once.
/// </summary>
internal sealed class HeldRepliesRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly int _serverPort;
    private readonly TimeSpan _hold;
    private readonly Task _accepting;
    private Task? _released;

    private HeldRepliesRelay(int serverPort, TimeSpan hold)
    {
        _serverPort = serverPort;
        _hold = hold;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <param name="serverPort">The Redis server's port on the loopback.</param>
    /// <param name="hold">How long after the first connection the replies start to flow.</param>
    public static HeldRepliesRelay Start(int serverPort, TimeSpan hold) => new(serverPort, hold);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _released ??= Task.Delay(_hold, _stop.Token);
                var server = new TcpClient();
                await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
                lock (_sockets)
                {
                    _sockets.Add(client);
                    _sockets.Add(server);
                }

                _ = PumpAsync(client.GetStream(), server.GetStream(), Task.CompletedTask);
                _ = PumpAsync(server.GetStream(), client.GetStream(), _released);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task PumpAsync(Stream from, Stream to, Task after)
    {
        try
        {
            await after;
            await from.CopyToAsync(to, _stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // A side closed, or the relay stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_sockets)
        {
            _sockets.ForEach(s => s.Dispose());
        }

        _stop.Dispose();
    }
}
