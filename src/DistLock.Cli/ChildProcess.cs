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
    /// Starts <paramref name="command"/>. With <paramref name="diesWithDistLock"/>, on Linux, the
    /// command is killed the moment distlock dies, even by SIGKILL, when nothing of distlock runs to
    /// stop it and its lock runs out: it must not run on beside the next holder. Linux has a parent-death
    /// signal for that (PR_SET_PDEATHSIG), set between fork and exec, which .NET cannot do itself:
    /// util-linux's setpriv sets it, then runs the command in its own place (same process, same exit code).
    /// </summary>
    public static async Task<ChildProcess> StartAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, bool diesWithDistLock)
    {
        var path = Locate(command[0]);
        if (Directory.Exists(path))
        {
            // .NET refuses a directory with an error whose system code is 0 ("Success").
            throw new CliException(ExitCodes.CannotExecute, $"cannot run {command[0]}: is a directory");
        }

        var setpriv = diesWithDistLock ? await FindDeathSignalSetterAsync() : null;
        if (setpriv is not null && !PosixFiles.CanExecute(path, out var error))
        {
            // Asked before setpriv runs it, so that a command that cannot run fails in distlock's words, not setpriv's.
            throw Refused(command[0], error, null);
        }

        var start = new ProcessStartInfo(setpriv ?? path) { UseShellExecute = false };
        foreach (var argument in setpriv is null ? command.Skip(1) : ["--pdeathsig", "KILL", "--", path, .. command.Skip(1)])
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

    private static CliException Refused(string name, int error, Exception? cause)
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
    private static string Locate(string name) =>
        Find(name) ?? throw new CliException(ExitCodes.CommandNotFound, $"cannot run {name}: command not found");

    private static string? Find(string name)
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

        return null;
    }

    /// <summary>
    /// setpriv, where it can set the parent-death signal (Linux, util-linux 2.33 and later: an older
    /// one refuses the option, and would not run the command at all); else null, and the command
    /// outlives a distlock killed with SIGKILL (docs/cli.md).
    /// </summary>
    private static async Task<string?> FindDeathSignalSetterAsync()
    {
        if (!OperatingSystem.IsLinux() || Find("setpriv") is not { } setpriv)
        {
            return null;
        }

        var probe = new ProcessStartInfo(setpriv, ["--pdeathsig", "KILL", "--help"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var process = Process.Start(probe)!;
            var drained = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
            await process.WaitForExitAsync();
            await drained;
            return process.ExitCode == 0 ? setpriv : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
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
