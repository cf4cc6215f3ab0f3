using System.Runtime.InteropServices;

namespace DistLock.RedisRig;

/// <summary>POSIX signals that .NET has no API for (SIGSTOP and SIGCONT), by process id.</summary>
internal static partial class Signals
{
    public const int SigCont = 18;
    public const int SigStop = 19;

    public static int Send(int processId, int signal) => Kill(processId, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
