using System.CommandLine;

namespace DistLock.Cli;

/// <summary>Options every command that talks to Redis shares.</summary>
internal static class CommonOptions
{
    public static Option<string[]> Redis() => new("--redis")
    {
        Description = "A StackExchange.Redis configuration string; repeat for Redlock over several masters (default: $DISTLOCK_REDIS, ';'-separated)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string> Prefix() => new("--prefix")
    {
        Description = "The key prefix the applications use (LockOptions.KeyPrefix)",
        DefaultValueFactory = _ => "lock:",
    };

    public static LockOptions LockOptions(string prefix)
    {
        try
        {
            return new LockOptions { KeyPrefix = prefix };
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--prefix: {ex.Message}", ex);
        }
    }
}
