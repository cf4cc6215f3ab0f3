using System.Diagnostics;
using System.Globalization;

namespace DistLock.RedisRig;

/// <summary>
/// Runs redis-cli (from the same Debian package as redis-server) for the administration that
/// StackExchange.Redis does not offer: creating a cluster, moving slots, failing over.
/// </summary>
public static class RedisCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string Path { get; } = RedisBinaries.Find("redis-cli");

    /// <summary>Runs one command against the server on <paramref name="port"/>; an error reply throws.</summary>
    public static async Task<string> CommandAsync(int port, params string[] command)
    {
        var output = await RunAsync(["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), .. command]).ConfigureAwait(false);
        if (output.StartsWith("ERR", StringComparison.Ordinal) || output.StartsWith("(error)", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli -p {port} {string.Join(' ', command)}: {output}");
        }

        return output;
    }

    /// <summary>Runs redis-cli with <paramref name="arguments"/>; returns its standard output, trimmed.</summary>
    /// <exception cref="InvalidOperationException">It exited with a non-zero code.</exception>
    public static async Task<string> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-cli.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                throw new InvalidOperationException($"redis-cli {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s.");
            }
        }

        var output = (await stdout.ConfigureAwait(false)).Trim();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"redis-cli {string.Join(' ', arguments)} exited with {process.ExitCode}: {output} {await stderr.ConfigureAwait(false)}");
        }

        return output;
    }
}
