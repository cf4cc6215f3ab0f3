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

    /// <summary>Sends <paramref name="signal"/> to <paramref name="processId"/>; returns 0 on success.</summary>
    public static int Send(int processId, int signal) => Kill(processId, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
