using System.ComponentModel;
using System.Diagnostics;

namespace DistLock.Cli;

/// <summary>
/// The command <c>exec</c> runs, with this terminal's stdin, stdout and stderr.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    /// <summary>ENOENT: the command does not exist.</summary>
    private const int NoSuchFile = 2;

    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    /// <summary>
    /// Starts <paramref name="command"/>; with <paramref name="diesWithDistLock"/> it dies with
    /// distlock where it can (see <see cref="Launchers"/>).
    /// </summary>
    public static async Task<ChildProcess> StartAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, bool diesWithDistLock)
    {
        var path = Locate(command[0]);
        if (Directory.Exists(path))
        {
            // .NET refuses a directory with an error whose system code is 0 ("Success").
            throw new CliException(ExitCodes.CannotExecute, $"cannot run {command[0]}: is a directory");
        }

        var launchers = Launchers.For(command[0], path, diesWithDistLock);
        var start = new ProcessStartInfo(launchers.Count == 0 ? path : launchers[0]) { UseShellExecute = false };

        // Named to the launcher as .NET names a relative command to the system: its $0 is the same either way.
        IEnumerable<string> arguments = launchers.Count == 0
            ? command.Skip(1)
            : [.. launchers.Skip(1), Path.IsPathRooted(path) ? path : Path.Combine(Directory.GetCurrentDirectory(), path), .. command.Skip(1)];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        try
        {
            return new ChildProcess(await StartOnOwnThreadAsync(start));
        }
        catch (Win32Exception ex)
        {
            throw Refused(command[0], ex.NativeErrorCode, ex);
        }
    }

    /// <summary>The system refused to run <paramref name="name"/> (<paramref name="error"/>: its error number): said as a shell says it.</summary>
    public static CliException Refused(string name, int error, Exception? cause)
    {
        if (error == NoSuchFile)
        {
            return new CliException(ExitCodes.CommandNotFound, $"cannot run {name}: command not found", cause);
        }

        // .NET's message ("An error occurred trying to start process '...' with working directory
        // '...'. Permission denied") wraps the system's own words, which are all a shell would say.
        var reason = new Win32Exception(error).Message;
        reason = reason.Length > 0 ? char.ToLowerInvariant(reason[0]) + reason[1..] : "could not start";
        return new CliException(ExitCodes.CannotExecute, $"cannot run {name}: {reason}", cause);
    }

    /// <summary>
    /// The parent-death signal comes when the thread that forked the command ends, not the process:
    /// started from a thread-pool thread, which retires when idle, the command would be killed while
    /// distlock still runs. It is forked from a thread of its own, which lives until the command is done.
    /// </summary>
    private static Task<Process> StartOnOwnThreadAsync(ProcessStartInfo start)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var process = Process.Start(start) ?? throw new InvalidOperationException("no process was started");
                started.SetResult(process);

                // Blocks on purpose: the thread's life is the signal's reach. It is this command's own
                // thread, never a thread-pool one, and distlock waits for the command asynchronously.
                process.WaitForExit();
            }
            catch (Exception ex) when (!started.Task.IsCompleted)
            {
                started.SetException(ex);
            }
            catch (Exception)
            {
                // The command was disposed of while this thread waited: the thread's work is over.
            }
        })
        {
            IsBackground = true,
            Name = "distlock exec",
        };
        thread.Start();
        return started.Task;
    }

    /// <summary>
    /// Where a shell would find <paramref name="name"/>: a name without '/' on PATH only (an empty
    /// entry is the working directory, as in POSIX). .NET would look in the tool's own directory and
    /// the working directory first, so a file there named like a command would run instead of it.
    /// On Windows, its own search order stands.
    /// </summary>
    private static string Locate(string name)
    {
        if (OperatingSystem.IsWindows() || name.Contains('/', StringComparison.Ordinal))
        {
            return name;
        }

        const UnixFileMode Executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':'))
        {
            var candidate = Path.Combine(directory.Length == 0 ? "." : directory, name);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & Executable) != 0)
            {
                return candidate;
            }
        }

        throw new CliException(ExitCodes.CommandNotFound, $"cannot run {name}: command not found");
    }

    public void Signal(int signal)
    {
        if (!_process.HasExited)
        {
            PosixSignals.Send(_process.Id, signal);
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited after a grace period.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        PosixSignals.Send(_process.Id, PosixSignals.SigTerm);
        try
        {
            await _process.WaitForExitAsync().WaitAsync(StopGrace);
        }
        catch (TimeoutException)
        {
            PosixSignals.Send(_process.Id, PosixSignals.SigKill);
        }
    }

    public void Dispose() => _process.Dispose();
}
