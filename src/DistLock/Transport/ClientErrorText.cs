namespace DistLock.Transport;

/// <summary>The words of a StackExchange.Redis error, for DistLock's own messages.</summary>
internal static class ClientErrorText
{
    /// <summary>
    /// StackExchange.Redis appends its connection state to a message (", Flushed/ReadAsync, last:
    /// ECHO, ..., IOCP: (...)"): useful to its maintainers, noise in ours. Keeps what comes before,
    /// and says in words what "(0-read)" means: the server accepted the connection and never answered.
    /// </summary>
    public static string WithoutClientState(string message)
    {
        var cut = message.Length;
        foreach (var marker in StateMarkers)
        {
            var at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0 && at < cut)
            {
                cut = at;
            }
        }

        var kept = message[..cut].TrimEnd(' ', ',', ';');
        return kept.Contains("(0-read)", StringComparison.Ordinal)
            ? kept + ": the server accepted the connection but did not answer (paused, overloaded, or not Redis)"
            : kept;
    }

    private static readonly string[] StateMarkers = [", Flushed/", ", Idle/", ", last: ", ", origin: ", ", IOCP: ", "; IOCP: ", ", mc: ", ", serverEndpoint: "];
}
