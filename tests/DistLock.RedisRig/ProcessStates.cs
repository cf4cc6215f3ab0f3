namespace DistLock.RedisRig;

/// <summary>The state Linux reports for a process (/proc/PID/stat): R, S, T (stopped), Z (a zombie, killed and not reaped yet)...</summary>
public static class ProcessStates
{
    /// <summary>The state letter of <paramref name="processId"/>; null when it is gone.</summary>
    public static char? Of(int processId)
    {
        try
        {
            // The name, in parentheses, may hold spaces and parentheses: the state follows the last ')'.
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
