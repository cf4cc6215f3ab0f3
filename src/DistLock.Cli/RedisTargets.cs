namespace DistLock.Cli;

/// <summary>Where the locks are: the --redis options, else DISTLOCK_REDIS (several separated by ';').</summary>
internal static class RedisTargets
{
    public const string EnvironmentVariable = "DISTLOCK_REDIS";

    public static IReadOnlyList<string> Resolve(string[]? fromOptions)
    {
        if (fromOptions is { Length: > 0 })
        {
            return fromOptions;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment)
            ? []
            : fromEnvironment.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Connects a manager, turning the library's errors into one-line CLI errors.</summary>
    public static async Task<RedisLockManager> ConnectAsync(IReadOnlyList<string> targets, LockOptions options, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            throw new CliException(ExitCodes.Usage, $"no Redis given: use --redis HOST:PORT (repeat it for Redlock) or set {EnvironmentVariable}");
        }

        try
        {
            return await RedisLockManager.ConnectAsync(targets, options, cancellationToken: cancellationToken);
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"bad Redis configuration: {ex.Message}", ex);
        }
    }
}
