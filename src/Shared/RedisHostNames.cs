using System.Net;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace DistLock;

/// <summary>
/// StackExchange.Redis reads any word of a configuration string without '=' as a host: in
/// "host:6379,,=x" the typo "=x" becomes a server to connect to, and the mistake shows as an outage
/// ("Name or service not known") on every call instead of a configuration error. Compiled into the
/// library, the tool and the dependency injection package (src/Shared), which word the error each
/// in their own way.
/// </summary>
internal static partial class RedisHostNames
{
    /// <summary>The first endpoint's host that cannot be a DNS name, or null when every one can.</summary>
    public static string? FirstMalformed(ConfigurationOptions options) =>
        options.EndPoints.OfType<DnsEndPoint>().Select(e => e.Host).FirstOrDefault(host => !HostName().IsMatch(host));

    /// <summary>A DNS name (letters, digits, '-', '.', and '_' as container names have), fully qualified ("redis.example.") too.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$")]
    private static partial Regex HostName();
}
