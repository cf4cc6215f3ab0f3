using System.Runtime.InteropServices;

namespace DistLock.Cli;

/// <summary>Sends a signal to a process by id (.NET can only send SIGKILL).</summary>
internal static partial class PosixSignals
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    public static void Send(int processId, int signal) => _ = Kill(processId, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
