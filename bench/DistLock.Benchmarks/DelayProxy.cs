using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace DistLock.Benchmarks;

/// <summary>
/// A loopback TCP forwarder that holds every chunk of bytes for a fixed delay in each direction,
/// so that a round trip costs what it costs on a real network instead of the CPU time of a
/// loopback. It forwards bytes as they come and parses nothing.
/// </summary>
public sealed class DelayProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly TimeSpan _delay;
    private readonly Task _accepting;

    public DelayProxy(string upstream, TimeSpan delay)
    {
        var separator = upstream.LastIndexOf(':');
        _upstreamHost = upstream[..separator];
        _upstreamPort = int.Parse(upstream[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        _delay = delay;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var upstream = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = PumpAsync(client.GetStream(), upstream.GetStream(), linked.Token);
            var down = PumpAsync(upstream.GetStream(), client.GetStream(), linked.Token);
            await Task.WhenAny(up, down);
            await linked.CancelAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A side closed: close the other.
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>Reads as fast as bytes come, and writes each chunk once it has aged by the delay, in order.</summary>
    private async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        var queue = Channel.CreateUnbounded<(long Due, byte[] Bytes)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writing = Task.Run(async () =>
        {
            await foreach (var (due, bytes) in queue.Reader.ReadAllAsync(cancellationToken))
            {
                var wait = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    // Task.Delay counts whole milliseconds and would turn 0.9 ms into none: round up.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), cancellationToken);
                }

                await to.WriteAsync(bytes, cancellationToken);
            }
        }, cancellationToken);

        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                var due = TimeProvider.System.GetTimestamp() + (long)(_delay.TotalSeconds * TimeProvider.System.TimestampFrequency);
                queue.Writer.TryWrite((due, buffer[..read]));
            }
        }
        finally
        {
            queue.Writer.TryComplete();
        }

        await writing;
    }
}
