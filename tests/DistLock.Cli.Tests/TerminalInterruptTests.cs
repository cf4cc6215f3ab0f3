using System.Diagnostics;
using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>Ctrl+C at a real (pseudo-)terminal, made with util-linux's <c>script</c>.</summary>
[Collection(RedisCollection.Name)]
public sealed class TerminalInterruptTests(RedisFixture redis)
{
    // Counts each SIGINT it receives (one line per signal, written by the handler), exits 2 s after the first.
    private const string Counter = """
        import os, signal, sys, time
        log, ready = sys.argv[1], sys.argv[2]
        first = []
        def on_int(signum, frame):
            with open(log, "a") as f:
                f.write("INT\n")
            first.append(time.monotonic())
        signal.signal(signal.SIGINT, on_int)
        open(ready, "w").close()
        while not first or time.monotonic() - first[0] < 2:
            time.sleep(0.01)
        """;

    [Fact]
    public async Task Exec_CtrlCInATerminal_TheCommandGetsSigIntOnce()
    {
        // Regression: the terminal's SIGINT reached the command, and distlock forwarded its own copy.
        var resource = "tty-" + Guid.NewGuid().ToString("N")[..8];
        var directory = Directory.CreateTempSubdirectory("distlock-tty-").FullName;
        var script = Path.Combine(directory, "count.py");
        var log = Path.Combine(directory, "signals.log");
        var ready = Path.Combine(directory, "ready");
        await File.WriteAllTextAsync(script, Counter);
        var tool = Path.Combine(AppContext.BaseDirectory, "DistLock.Cli.dll");
        using var terminal = UnderATerminal($"exec dotnet '{tool}' exec --resource {resource} -- python3 '{script}' '{log}' '{ready}'");
        _ = terminal.StandardOutput.ReadToEndAsync();
        _ = terminal.StandardError.ReadToEndAsync();
        try
        {
            for (var i = 0; i < 1000 && !File.Exists(ready); i++)
            {
                await Task.Delay(20);
            }

            Assert.True(File.Exists(ready), "the command did not start under the terminal");
            await terminal.StandardInput.WriteAsync('\u0003'); // Ctrl+C, typed at the terminal
            await terminal.StandardInput.FlushAsync();

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await terminal.WaitForExitAsync(timeout.Token);
            Assert.Equal(["INT"], await File.ReadAllLinesAsync(log));
            Assert.Null((await redis.Locks.InspectAsync(resource)).HolderId);
        }
        finally
        {
            if (!terminal.HasExited)
            {
                terminal.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task StatusSemaphoreWatch_InATerminal_RedrawsTheView_AndCtrlCEndsItWithZero()
    {
        var resource = "tty-sem-" + Guid.NewGuid().ToString("N")[..8];
        var tool = Path.Combine(AppContext.BaseDirectory, "DistLock.Cli.dll");
        using var terminal = UnderATerminal($"exec dotnet '{tool}' status --semaphore {resource} --watch");
        var screen = new System.Text.StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await terminal.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (screen)
                {
                    screen.Append(buffer, 0, read);
                }
            }
        });
        _ = terminal.StandardError.ReadToEndAsync();
        string Screen()
        {
            lock (screen)
            {
                return screen.ToString();
            }
        }

        try
        {
            await Until.TrueAsync(() => Screen().Contains("free permits", StringComparison.Ordinal));
            await using (var held = await redis.Locks.AcquireSemaphoreAsync(resource, 2))
            {
                await Until.TrueAsync(() => Screen().Contains(held.HolderId, StringComparison.Ordinal));
            }

            Assert.Contains('\u001b', Screen()); // a live view: the cursor moves back to redraw
            await terminal.StandardInput.WriteAsync('\u0003');
            await terminal.StandardInput.FlushAsync();

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await terminal.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, terminal.ExitCode);
        }
        finally
        {
            if (!terminal.HasExited)
            {
                terminal.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Runs <paramref name="commandLine"/> (sh syntax) on a pseudo-terminal; what it shows comes out on standard output.</summary>
    private Process UnderATerminal(string commandLine)
    {
        var start = new ProcessStartInfo("script", ["-qfec", commandLine, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DISTLOCK_REDIS"] = redis.Endpoint;
        Signals.LetChildrenBeInterrupted();
        return Process.Start(start)!;
    }
}
