using System.Text.Encodings.Web;
using System.Text.Json;

namespace DistLock.Cli;

/// <summary>
/// status --json and list --json. The field names are a documented contract (docs/cli.md): add
/// fields, never rename or remove one.
/// </summary>
internal static class LockJson
{
    public static void Write(Utf8JsonWriter json, LockInfo info, int nodes)
    {
        json.WriteStartObject();
        json.WriteString("resource", info.Resource);
        json.WriteString("key", info.Key);
        json.WriteString("state", LockTable.StateOf(info).Replace(' ', '-'));
        if (info.HolderId is null || info.HandingOver > 0)
        {
            json.WriteNull("holder");
        }
        else
        {
            json.WriteString("holder", info.HolderId);
        }

        if (info.RemainingTtl is { } ttl)
        {
            json.WriteNumber("ttlMs", (long)ttl.TotalMilliseconds);
        }
        else
        {
            json.WriteNull("ttlMs");
        }

        json.WriteNumber("fencingCounter", info.LastFencingToken);
        json.WriteNumber("waiters", info.Waiters);
        json.WriteNumber("nodesHolding", info.NodesHolding);
        json.WriteNumber("nodes", nodes);
        if (info.HolderLabel is { } label)
        {
            json.WriteString("holderLabel", label);
            json.WriteString("heldSince", info.HeldSince!.Value.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull("holderLabel");
            json.WriteNull("heldSince");
        }

        json.WriteStartArray("readers");
        foreach (var reader in info.Readers)
        {
            json.WriteStartObject();
            json.WriteString("id", reader.HolderId);
            json.WriteNumber("ttlMs", (long)reader.RemainingTtl.TotalMilliseconds);
            if (reader.HolderLabel is { } readerLabel)
            {
                json.WriteString("holderLabel", readerLabel);
            }
            else
            {
                json.WriteNull("holderLabel");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

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
