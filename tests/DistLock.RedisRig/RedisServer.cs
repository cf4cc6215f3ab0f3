using System.Collections.Concurrent;
using System.Diagnostics;
using StackExchange.Redis;

namespace DistLock.RedisRig;

/// <summary>
/// A real redis-server process on a free loopback port, in its own temporary directory, with no
/// persistence. Stopped by its own process id on dispose, and at the latest when this process exits.
/// Kill, pause (SIGSTOP), resume (SIGCONT) and restart it to inject faults.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<RedisServer, byte> Live = new();
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly string _directory;
    private readonly string[] _extraArguments;
    private string? _sentinelConfig;
    private Process? _process;

    static RedisServer() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var server in Live.Keys)
        {
            server.Kill();
        }
    };

    private RedisServer(int port, string directory, string[] extraArguments)
    {
        Port = port;
        _directory = directory;
        _extraArguments = extraArguments;
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:port", a StackExchange.Redis configuration string.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    public int ProcessId => _process?.Id ?? 0;

    /// <summary>The password given with --requirepass, if any.</summary>
    public string? Password
    {
        get
        {
            var at = Array.IndexOf(_extraArguments, "--requirepass");
            return at >= 0 && at + 1 < _extraArguments.Length ? _extraArguments[at + 1] : null;
        }
    }

    private string Auth => Password is { } password ? ",password=" + password : string.Empty;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a server; extra arguments are redis-server options, e.g. "--maxmemory", "1mb".</summary>
    public static async Task<RedisServer> StartAsync(params string[] extraArguments)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory("distlock-redis-").FullName;
            var server = new RedisServer(LoopbackPorts.Free(), directory, extraArguments);
            try
            {
                await server.LaunchAsync().ConfigureAwait(false);
                return server;
            }
            catch (InvalidOperationException ex)
            {
                // Most likely the port was taken between probing and binding: try another.
                last = ex;
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException("Could not start redis-server.", last);
    }

    /// <summary>
    /// Starts a Sentinel (redis-server --sentinel) with <paramref name="configuration"/> as its
    /// configuration file, which Sentinel rewrites as it learns the topology.
    /// </summary>
    public static async Task<RedisServer> StartSentinelAsync(string configuration)
    {
        var directory = Directory.CreateTempSubdirectory("distlock-sentinel-").FullName;
        var server = new RedisServer(LoopbackPorts.Free(), directory, []) { _sentinelConfig = Path.Combine(directory, "sentinel.conf") };
        await File.WriteAllTextAsync(server._sentinelConfig, configuration).ConfigureAwait(false);
        try
        {
            await server.LaunchAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts several servers in parallel.</summary>
    public static async Task<RedisServer[]> StartManyAsync(int count, params string[] extraArguments) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => StartAsync(extraArguments))).ConfigureAwait(false);

    /// <summary>A connection for tests: fails fast while the server is down, short timeouts.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync(string extraConfiguration = "") =>
        ConnectionMultiplexer.ConnectAsync($"{Endpoint},abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000{Auth}{extraConfiguration}");

    /// <summary>The first word of ROLE: "master", "slave" (a replica) or "sentinel".</summary>
    public async Task<string> RoleAsync() =>
        (await RedisCli.CommandAsync(Port, "ROLE").ConfigureAwait(false)).Split('\n')[0].Trim();

    /// <summary>True for a primary, and for a replica whose replication link is up (in sync with its primary).</summary>
    public async Task<bool> InSyncAsync()
    {
        var replication = await RedisCli.CommandAsync(Port, "INFO", "replication").ConfigureAwait(false);
        return !replication.Contains("role:slave", StringComparison.Ordinal)
            || replication.Contains("master_link_status:up", StringComparison.Ordinal);
    }

    /// <summary>SIGKILL: the server dies at once, losing everything (it keeps no data on disk).</summary>
    public void Kill()
    {
        var process = _process;
        if (process is { HasExited: false })
        {
            try
            {
                process.Kill();
                process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // Exited in the meantime.
            }
        }
    }

    /// <summary>
    /// SIGSTOP: the server stops answering but keeps its connections open. Returns once the kernel
    /// shows every thread of it stopped: the signal is only on its way when kill returns, and a
    /// command sent meanwhile would still be answered.
    /// </summary>
    public Task PauseAsync() => _process is { HasExited: false } process ? Signals.StopAsync(process.Id) : Task.CompletedTask;

    /// <summary>SIGCONT: a paused server carries on.</summary>
    public void Resume() => Signal(Signals.SigCont);

    /// <summary>Starts the server again on the same port, empty, after <see cref="Kill"/>.</summary>
    public async Task RestartAsync()
    {
        Kill();
        await LaunchAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        Live.TryRemove(this, out _);
        Kill();
        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp directory is empty anyway without persistence.
        }

        return ValueTask.CompletedTask;
    }

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo(RedisBinaries.Server)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        if (_sentinelConfig is not null)
        {
            start.ArgumentList.Add(_sentinelConfig);
            start.ArgumentList.Add("--sentinel");
        }

        foreach (var argument in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", string.Empty,
            "--appendonly", "no",
            "--dir", _directory,
            "--daemonize", "no",
            "--protected-mode", "no",
        }.Concat(_sentinelConfig is null ? ["--enable-debug-command", "local"] : []).Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            // A Sentinel does not say "ready"; it listens before it names itself.
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal) || e.Data.Contains("Sentinel ID is", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.Exited += (_, _) => ready.TrySetException(
            new InvalidOperationException("redis-server exited at start: " + string.Join(Environment.NewLine, output.TakeLast(5))));
        process.Start();
        _process = process;
        Live.TryAdd(this, 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ready.Task.WaitAsync(StartTimeout).ConfigureAwait(false);
        if (_sentinelConfig is null)
        {
            await WaitForPingAsync().ConfigureAwait(false);
        }
    }

    private async Task WaitForPingAsync()
    {
        await using var connection = await ConnectionMultiplexer
            .ConnectAsync($"{Endpoint},abortConnect=true,connectTimeout=5000{Auth}")
            .ConfigureAwait(false);
        await connection.GetDatabase().PingAsync().ConfigureAwait(false);
    }

    private void Signal(int signal)
    {
        if (_process is { HasExited: false } process && Signals.Send(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"Could not send signal {signal} to redis-server {process.Id}.");
        }
    }
}
