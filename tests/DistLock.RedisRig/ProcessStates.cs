namespace DistLock.RedisRig;

/// <summary>The state Linux reports for a process (/proc/PID/stat): R, S, T (stopped), Z (a zombie, killed and not reaped yet)...</summary>
public static class ProcessStates
{
    /// <summary>The state letter of <paramref name="processId"/>'s main thread; null when it is gone.</summary>
    public static char? Of(int processId) => StateIn($"/proc/{processId}/stat");

    /// <summary>
    /// Whether no thread of <paramref name="processId"/> can run: every one is stopped (T, or t under
    /// a tracer) or dead, or the process is gone. The main thread alone does not say: a stop reaches
    /// the other threads only after one of them took the signal.
    /// </summary>
    public static bool IsHalted(int processId)
    {
        string[] threads;
        try
        {
            threads = Directory.GetDirectories($"/proc/{processId}/task");
        }
        catch (IOException)
        {
            return true;
        }

        // A thread that ends meanwhile (null) runs nothing either.
        return threads.All(thread => StateIn(Path.Combine(thread, "stat")) is null or 'T' or 't' or 'Z' or 'X');
    }

    private static char? StateIn(string statFile)
    {
        try
        {
            // The name, in parentheses, may hold spaces and parentheses: the state follows the last ')'.
            var stat = File.ReadAllText(statFile);
            return stat[(stat.LastIndexOf(')') + 2)..][0];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
