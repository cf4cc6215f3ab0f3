using System.CommandLine;

namespace DistLock.Cli;

/// <summary>Options every command that talks to Redis shares.</summary>
internal static class CommonOptions
{
    public const string VerboseFlag = "--verbose";

    public static Option<string[]> Redis() => new("--redis")
    {
        Description = "A StackExchange.Redis configuration string; repeat for Redlock over several masters (default: $DISTLOCK_REDIS, ';'-separated)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string> Prefix() => new("--prefix")
    {
        Description = "The key prefix the applications use (LockManagerOptions.KeyPrefix)",
        DefaultValueFactory = _ => "lock:",
    };

    /// <summary>On the root and every command: full error details, and exec's waiting notice off a terminal.</summary>
    public static Option<bool> Verbose() => new(VerboseFlag)
    {
        Description = "Full error details (exception types, client diagnostics); exec also says who holds the lock when it waits",
        Recursive = true,
    };

    /// <summary>
    /// A flag rc.1 had and 1.0 renamed or folded into another: still accepted, so that scripts keep
    /// working, but left out of --help; <see cref="WarnDeprecated"/> says what replaces it.
    /// </summary>
    public static Option<T> Deprecated<T>(string name) => new(name) { Hidden = true };

    /// <summary>One line on stderr, so that a script's output (stdout, --json) stays as it was.</summary>
    public static void WarnDeprecated(string flag, string instead) =>
        Console.Error.WriteLine($"distlock: warning: {flag} is deprecated and will be removed in a later version; {instead}");

    public static Option<bool> Json() => new("--json") { Description = "Machine-readable JSON on stdout (fields in docs/cli.md)" };

    /// <summary>
    /// A lock name as typed, checked before anything connects; <paramref name="where"/> names the
    /// flag or the command it came from. The library's own check would say ".NET's words" without it.
    /// </summary>
    public static string ResourceName(string? name, string where) =>
        string.IsNullOrWhiteSpace(name) ? throw new CliException(ExitCodes.Usage, $"{where}: a lock name cannot be empty") : name;

    public static RedisLockManagerOptions ManagerOptions(string prefix)
    {
        try
        {
            var options = new RedisLockManagerOptions { KeyPrefix = prefix };
            options.Validate();
            return options;
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--prefix: {ErrorText.Clean(ex.Message)}", ex);
        }
    }

    /// <summary>
    /// A command's description; its examples are kept for <see cref="ExamplesHelpAction"/>, which
    /// prints them under the command's own --help (not in the parent's list of commands).
    /// </summary>
    public static string Describe(string what, params string[] examples)
    {
        // Every example starts "distlock COMMAND": the second word says whose they are.
        ExamplesHelpAction.Examples[examples[0].Split(' ')[1]] = examples;
        return what;
    }
}
