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

    [GeneratedRegex(@"\b(?:[A-Z]\w*\.)*[A-Z]\w*Exception:\s*")]
    private static partial Regex TypeName();

    [GeneratedRegex(@"\s*\(Parameter '[^']*'\)")]
    private static partial Regex Parameter();
}
