using System.Text;
using System.Text.RegularExpressions;

namespace DistLock.Cli;

/// <summary>
/// Turns an exception message into one line a person can act on: no StackExchange.Redis
/// diagnostics (IOCP, WORKER, POOL, mc, inst...), no .NET exception type names, no
/// "(Parameter 'x')". The full text is printed only with --verbose.
/// </summary>
internal static partial class ErrorText
{
    private static readonly string[] DiagnosticsStart = [", command=", ", mc: ", ", inst: ", ", IOCP", "; IOCP", ", serverEndpoint:", ", clientName:"];

    public static string Clean(string message)
    {
        var text = OneLine(message);
        text = ConnectionState().Replace(text, m => FailureReason(m.Groups["kind"].Value));
        text = RemoveGroups(text);
        foreach (var marker in DiagnosticsStart)
        {
            var at = text.IndexOf(marker, StringComparison.Ordinal);
            if (at > 0)
            {
                text = text[..at];
            }
        }

        text = TypeName().Replace(text, string.Empty);
        text = Parameter().Replace(text, string.Empty);
        return text.Trim().TrimEnd(';', ',').Trim();
    }

    /// <summary>"not answering" for a message that carries a connection's state dump; null without one.</summary>
    public static string? ConnectionFailure(string message) =>
        ConnectionState().Match(OneLine(message)) is { Success: true } match ? FailureReason(match.Groups["kind"].Value) : null;

    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Removes every balanced (...) group that carries client diagnostics.</summary>
    private static string RemoveGroups(string text)
    {
        var result = new StringBuilder();
        var at = 0;
        while (at < text.Length)
        {
            if (text[at] == '(')
            {
                var depth = 0;
                var end = at;
                for (; end < text.Length; end++)
                {
                    depth += text[end] == '(' ? 1 : text[end] == ')' ? -1 : 0;
                    if (depth == 0)
                    {
                        break;
                    }
                }

                var group = text[at..Math.Min(end + 1, text.Length)];
                if (group.Contains("IOCP", StringComparison.Ordinal) || group.Contains("No connection is active", StringComparison.Ordinal))
                {
                    at = end + 1;
                    continue;
                }
            }

            result.Append(text[at]);
            at++;
        }

        return result.ToString();
    }

    /// <summary>A connection failure kind (StackExchange.Redis's ConnectionFailureType) in a few words.</summary>
    private static string FailureReason(string kind) => kind switch
    {
        "UnableToConnect" => "not answering",
        "SocketFailure" => "connection failed",
        "SocketClosed" => "connection closed by the server",
        "AuthenticationFailure" => "authentication failed",
        "Loading" => "still loading its data",
        "ProtocolFailure" => "protocol error",
        _ => string.Concat(kind.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())),
    };

    /// <summary>
    /// A StackExchange.Redis connection's state dump, "UnableToConnect (0-read) on host:port/Interactive,
    /// Flushed/ReadAsync, last: ECHO, outstanding: 14, ... v: 3.4.35": it runs to the end of the message.
    /// </summary>
    [GeneratedRegex(@"\b(?<kind>[A-Z][A-Za-z]+)(?: \([^)]*\))? on \S+?/(?:Interactive|Subscription)\b.*$")]
    private static partial Regex ConnectionState();

    [GeneratedRegex(@"\b(?:[A-Z]\w*\.)*[A-Z]\w*Exception:\s*")]
    private static partial Regex TypeName();

    [GeneratedRegex(@"\s*\(Parameter '[^']*'\)")]
    private static partial Regex Parameter();
}
