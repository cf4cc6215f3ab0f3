using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>One section of a server's <c>INFO</c>, as name/value pairs.</summary>
internal static class ServerInfo
{
    /// <summary>
    /// Reads <paramref name="section"/> through a script: StackExchange.Redis sends INFO itself only
    /// in admin mode, which a caller's connection need not allow, and scripts may call INFO.
    /// </summary>
    public static async Task<Dictionary<string, string>> ReadAsync(IServer server, string section, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = (string?)await server.ExecuteAsync("EVAL", $"return redis.call('INFO', '{section}')", 0)
            .WaitAsync(timeout, cancellationToken).ConfigureAwait(false) ?? string.Empty;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n'))
        {
            if (line.Trim().Split(':', 2) is [var name, var value])
            {
                values[name] = value;
            }
        }

        return values;
    }
}
