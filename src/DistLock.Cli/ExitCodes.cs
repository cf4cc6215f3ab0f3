namespace DistLock.Cli;

/// <summary>
/// What distlock's own exit codes mean (docs/cli.md). <c>exec</c> otherwise exits with its
/// command's code; the values follow sysexits.h and the shell where one fits.
/// </summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Anything else that went wrong (a declined confirmation, a failed demo check).</summary>
    public const int Failure = 1;

    /// <summary>Bad usage: an unknown flag, a missing <c>--</c>, an empty command, a bad Redis string.</summary>
    public const int Usage = 64;

    /// <summary>Redis could not be reached (or too few Redlock nodes).</summary>
    public const int RedisUnavailable = 69;

    /// <summary>A service distlock needs is unavailable: Redis (as above), or the port <c>serve</c> was asked for.</summary>
    public const int Unavailable = 69;

    /// <summary>Redis refused a command to the user distlock logs in as (NOPERM: an ACL without a right DistLock needs).</summary>
    public const int PermissionDenied = 77;

    /// <summary>The lock was lost while the command ran, and the command was stopped.</summary>
    public const int LockLost = 70;

    /// <summary>The lock was not acquired within <c>--wait</c>.</summary>
    public const int NotAcquired = 75;

    /// <summary>The command exists but cannot be run (like a shell).</summary>
    public const int CannotExecute = 126;

    /// <summary>The command does not exist (like a shell).</summary>
    public const int CommandNotFound = 127;
}
