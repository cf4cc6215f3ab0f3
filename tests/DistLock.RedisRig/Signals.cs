using System.Runtime.InteropServices;

namespace DistLock.RedisRig;

/// <summary>POSIX signals that .NET has no API for (SIGSTOP and SIGCONT), by process id.</summary>
public static partial class Signals
{
    /// <summary>SIGCONT: a stopped process carries on.</summary>
    public const int SigCont = 18;

    /// <summary>SIGSTOP: the process stops, as a long GC pause or a frozen VM would.</summary>
    public const int SigStop = 19;

    /// <summary>SIGTERM: asks the process to shut down, as a service manager does on a graceful stop.</summary>
    public const int SigTerm = 15;

    /// <summary>SIGINT: what Ctrl+C at a terminal sends.</summary>
    public const int SigInt = 2;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="processId"/>; returns 0 on success.</summary>
    public static int Send(int processId, int signal) => Kill(processId, signal);

    /// <summary>
    /// SIGSTOP, then waits until no thread of the process can run (at most 30 s). kill returns while
    /// the stop is only on its way: a .NET process's last threads stop 1.5-6 ms later on an idle
    /// machine, and a wake that reaches one of them meanwhile is still acted on, so a "stopped"
    /// waiter could still take a lock released right after the kill.
    /// </summary>
    public static async Task StopAsync(int processId)
    {
        if (Send(processId, SigStop) != 0)
        {
            throw new InvalidOperationException($"Could not send SIGSTOP to process {processId}.");
        }

        var deadline = Environment.TickCount64 + 30_000;
        while (!ProcessStates.IsHalted(processId))
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Process {processId} did not stop within 30 s of SIGSTOP.");
            }

            await Task.Delay(1).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Lets the processes this one starts be interrupted with SIGINT. A shell without job control
    /// starts a command run in the background (<c>cmd &amp;</c>) with SIGINT ignored, every process
    /// it starts inherits that, and .NET then never tells a tool under test of a SIGINT: its
    /// Ctrl+C tests would fail however the tool behaves. Only an ignored SIGINT is reset, to the
    /// default, so this process's own handling (none, while it was ignored) is untouched.
    /// </summary>
    public static void LetChildrenBeInterrupted()
    {
        // struct sigaction starts with its handler on Linux and macOS; the buffer is larger than the struct.
        Span<nint> current = stackalloc nint[64];
        if (SigAction(SigInt, IntPtr.Zero, ref current[0]) == 0 && current[0] == SigIgn)
        {
            _ = Signal(SigInt, SigDfl);
        }
    }

    private const nint SigDfl = 0;
    private const nint SigIgn = 1;

    [LibraryImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    private static partial int SigAction(int signal, nint action, ref nint previous);

    [LibraryImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static partial nint Signal(int signal, nint handler);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
