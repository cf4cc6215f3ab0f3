namespace DistLock.Cli;

/// <summary>An error the user should read as one line on stderr, with the exit code it means.</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
