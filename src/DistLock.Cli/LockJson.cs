using System.Text.Encodings.Web;
using System.Text.Json;

namespace DistLock.Cli;

/// <summary>
/// status --json and list --json. The field names are a documented contract (docs/cli.md): the
/// library's names for the same things (holderId, lastFencingToken...), so that one concept has one
/// name in the API, the JSON and the docs. From 1.0 on, add fields, never rename or remove one.
/// </summary>
internal static class LockJson
{
    /// <summary>One lock, as status --json prints it and list --json each lock.</summary>
    /// <param name="json">Where to write.</param>
    /// <param name="info">The lock.</param>
    /// <param name="nodes">The nodes asked.</param>
    /// <param name="heldWith">
    /// With several names (status A B): the others among them that the same holder holds (see
    /// <see cref="LockSetView"/>), written last as <c>heldWith</c>; null leaves the field out.
    /// </param>
    public static void Write(Utf8JsonWriter json, LockInfo info, int nodes, IEnumerable<string>? heldWith = null)
    {
        json.WriteStartObject();
        json.WriteString("resource", info.Resource);
        json.WriteString("key", info.Key);
        json.WriteString("state", LockTable.StateOf(info).Replace(' ', '-'));
        // While a release hands the lock over, the key holds a reservation, not a holder's id.
        WriteOrNull(json, "holderId", info.HandingOver > 0 ? null : info.HolderId);
        json.WriteNumber("handingOver", info.HandingOver);
        WriteMilliseconds(json, "remainingTtlMs", info.RemainingTtl);
        json.WriteNumber("lastFencingToken", info.LastFencingToken);
        json.WriteNumber("waiters", info.Waiters);
        json.WriteNumber("nodesHolding", info.NodesHolding);
        json.WriteNumber("nodes", nodes);
        WriteOrNull(json, "holderLabel", info.HolderLabel);
        WriteTime(json, "heldSince", info.HeldSince);
        WriteHolders(json, "readers", info.Readers);
        if (heldWith is not null)
        {
            json.WriteStartArray("heldWith");
            foreach (var resource in heldWith)
            {
                json.WriteStringValue(resource);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// A lock's readers or a semaphore's holders, one shape for both (the library's LockHolder):
    /// <c>{holderId, remainingTtlMs, holderLabel, heldSince}</c>.
    /// </summary>
    public static void WriteHolders(Utf8JsonWriter json, string name, IEnumerable<LockHolder> holders)
    {
        json.WriteStartArray(name);
        foreach (var holder in holders)
        {
            json.WriteStartObject();
            json.WriteString("holderId", holder.HolderId);
            WriteMilliseconds(json, "remainingTtlMs", holder.RemainingTtl);
            WriteOrNull(json, "holderLabel", holder.HolderLabel);
            WriteTime(json, "heldSince", holder.HeldSince);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteMilliseconds(Utf8JsonWriter json, string name, TimeSpan? value)
    {
        if (value is { } time)
        {
            json.WriteNumber(name, (long)time.TotalMilliseconds);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>ISO 8601 with the offset (round-trip "O"), or null.</summary>
    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? value) =>
        WriteOrNull(json, name, value?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

    public static void Print(LockInfo info, int nodes) => Print(json => Write(json, info, nodes));

    public static void Print(IEnumerable<LockInfo> locks, int nodes) => Print(json =>
    {
        json.WriteStartArray();
        foreach (var info in locks)
        {
            Write(json, info, nodes);
        }

        json.WriteEndArray();
    });

    /// <summary>
    /// Writes one JSON document to stdout, indented, with a final newline. Not HTML-escaped: a
    /// timestamp reads "+00:00" and a label its own characters, not "\u002B00:00" (it goes to jq, not a page).
    /// </summary>
    public static void Print(Action<Utf8JsonWriter> write)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(json);
        }

        stdout.Write("\n"u8);
    }
}
