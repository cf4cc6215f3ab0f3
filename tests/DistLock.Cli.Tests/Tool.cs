using System.Diagnostics;
using DistLock.RedisRig;
using System.Text;

namespace DistLock.Cli.Tests;

/// <summary>Runs the built distlock tool as a separate process, as a user's shell would.</summary>
public sealed class Tool : IDisposable
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    static Tool() => Signals.LetChildrenBeInterrupted();

    private Tool(Process process) => Process = process;

    public Process Process { get; }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts the tool; <paramref name="redis"/> is put in DISTLOCK_REDIS when given.</summary>
    public static Tool Start(IEnumerable<string> arguments, string? redis = null, string? stdin = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DistLock.Cli.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("DISTLOCK_REDIS");
        if (redis is not null)
        {
            start.Environment["DISTLOCK_REDIS"] = redis;
        }

        var tool = new Tool(Process.Start(start)!);
        tool.Process.OutputDataReceived += (_, e) => Append(tool._stdout, e.Data);
        tool.Process.ErrorDataReceived += (_, e) => Append(tool._stderr, e.Data);
        tool.Process.BeginOutputReadLine();
        tool.Process.BeginErrorReadLine();
        if (stdin is not null)
        {
            tool.Process.StandardInput.Write(stdin);
        }

        tool.Process.StandardInput.Close();
        return tool;
    }

    /// <summary>Runs the tool to its end and returns its exit code.</summary>
    public static async Task<Tool> RunAsync(IEnumerable<string> arguments, string? redis = null, string? stdin = null, int timeoutSeconds = 60)
    {
        var tool = Start(arguments, redis, stdin);
        await tool.WaitAsync(timeoutSeconds);
        return tool;
    }

    public async Task<int> WaitAsync(int timeoutSeconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await Process.WaitForExitAsync(timeout.Token);
        Process.WaitForExit(); // drains the output readers
        return Process.ExitCode;
    }

    public int ExitCode => Process.ExitCode;

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000); // sync: Dispose cannot await; bounded, as a killed tool exits at once
        }

        Process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }
}
