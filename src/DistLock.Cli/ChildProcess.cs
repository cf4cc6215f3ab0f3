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
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false };
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
