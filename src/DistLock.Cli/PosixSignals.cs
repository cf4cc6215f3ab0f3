using System.Runtime.InteropServices;

namespace DistLock.Cli;

/// <summary>Sends a signal to a process by id (.NET can only send SIGKILL), and reads the terminal's foreground group.</summary>
internal static partial class PosixSignals
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    public static void Send(int processId, int signal) => _ = Kill(processId, signal);

    /// <summary>
    /// True when this process's group is the foreground group of the terminal on stdin, stdout or
    /// stderr: then a keyboard signal (Ctrl+C) reached every process of the group, children included.
    /// </summary>
    public static bool InForegroundOfTerminal()
    {
        var group = GetProcessGroup();
        for (var fd = 0; fd <= 2; fd++)
        {
            if (IsTerminal(fd) == 1)
            {
                return TerminalForegroundGroup(fd) == group;
            }
        }

        return false;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "getpgrp")]
    private static partial int GetProcessGroup();

    [LibraryImport("libc", EntryPoint = "tcgetpgrp")]
    private static partial int TerminalForegroundGroup(int fd);

    [LibraryImport("libc", EntryPoint = "isatty")]
    private static partial int IsTerminal(int fd);
}
