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

    public static ChildProcess Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment)
    {
        var path = Locate(command[0]);
        if (Directory.Exists(path))
        {
            // .NET refuses a directory with an error whose system code is 0 ("Success").
            throw new CliException(ExitCodes.CannotExecute, $"cannot run {command[0]}: is a directory");
        }

        var start = new ProcessStartInfo(path) { UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        try
        {
            return new ChildProcess(Process.Start(start) ?? throw new CliException(ExitCodes.CannotExecute, $"cannot run {command[0]}: could not start"));
        }
        catch (Win32Exception ex) when (ex.NativeErrorCode == NoSuchFile)
        {
            throw new CliException(ExitCodes.CommandNotFound, $"cannot run {command[0]}: command not found", ex);
        }
        catch (Win32Exception ex)
        {
            // .NET's message ("An error occurred trying to start process '...' with working directory
            // '...'. Permission denied") wraps the system's own words, which are all a shell would say.
            var reason = new Win32Exception(ex.NativeErrorCode).Message;
            reason = reason.Length > 0 ? char.ToLowerInvariant(reason[0]) + reason[1..] : "could not start";
            throw new CliException(ExitCodes.CannotExecute, $"cannot run {command[0]}: {reason}", ex);
        }
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
