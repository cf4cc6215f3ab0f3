using System.Runtime.InteropServices;

namespace DistLock.Cli;

/// <summary>Asks the system whether this process may run a file, as exec would decide.</summary>
internal static partial class PosixFiles
{
    private const int ExecuteAccess = 1; // X_OK

    /// <summary>True when <paramref name="path"/> may be run; else false, with the system's error number (ENOENT, EACCES, ...).</summary>
    public static bool CanExecute(string path, out int error)
    {
        var allowed = Access(path, ExecuteAccess) == 0;
        error = allowed ? 0 : Marshal.GetLastPInvokeError();
        return allowed;
    }

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);
}
