using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace DistLock.Cli;

/// <summary>
/// How <c>status --semaphore</c> shows a semaphore: its limit, its holders with their TTL, free
/// permits and the line. The JSON field names are a documented contract (docs/cli.md).
/// </summary>
internal static class SemaphoreView
{
    public static Table Details(SemaphoreInfo info)
    {
        var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        table.AddRow("semaphore", Markup.Escape(info.Resource));
        table.AddRow("key", Markup.Escape(info.Key));
        table.AddRow("max count", info.MaxCount == 0 ? "- (free: the next caller's --permits sets it)" : Number(info.MaxCount));
        table.AddRow("free permits", info.MaxCount == 0 ? "all" : Number(info.FreePermits));
        if (info.HandingOver > 0)
        {
            table.AddRow("handing over", $"{Number(info.HandingOver)} (reserved for woken waiters)");
        }

        table.AddRow("holders", info.Holders.Count == 0 ? "-" : string.Join('\n', info.Holders.Select(Holder)));
        table.AddRow("fencing counter", info.LastFencingToken.ToString(CultureInfo.InvariantCulture));
        table.AddRow("waiters", Number(info.Waiters));
        return table;
    }

    /// <summary>What <c>status --semaphore --watch</c> prints off a terminal, when it changes.</summary>
    public static string Line(SemaphoreInfo info) =>
        $"holders={Number(info.Holders.Count)}/{(info.MaxCount == 0 ? "-" : Number(info.MaxCount))} free={(info.MaxCount == 0 ? "all" : Number(info.FreePermits))} " +
        $"handing-over={Number(info.HandingOver)} fencing={info.LastFencingToken.ToString(CultureInfo.InvariantCulture)} waiters={Number(info.Waiters)}";

    /// <summary>The shortest TTL left among the holders, or - when none holds.</summary>
    public static string TtlOf(SemaphoreInfo info) =>
        info.Holders.Count == 0 ? "-" : LockTable.Seconds(info.Holders.Min(h => h.RemainingTtl));

    public static void Print(SemaphoreInfo info) => LockJson.Print(json =>
    {
        json.WriteStartObject();
        json.WriteString("semaphore", info.Resource);
        json.WriteString("key", info.Key);
        json.WriteNumber("maxCount", info.MaxCount);
        json.WriteNumber("freePermits", info.FreePermits);
        json.WriteNumber("handingOver", info.HandingOver);
        json.WriteStartArray("holders");
        foreach (var holder in info.Holders)
        {
            json.WriteStartObject();
            json.WriteString("holder", holder.HolderId);
            json.WriteNumber("ttlMs", (long)holder.RemainingTtl.TotalMilliseconds);
            WriteOrNull(json, "holderLabel", holder.HolderLabel);
            WriteOrNull(json, "heldSince", holder.HeldSince?.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("fencingCounter", info.LastFencingToken);
        json.WriteNumber("waiters", info.Waiters);
        json.WriteEndObject();
    });

    private static string Holder(LockHolder holder) =>
        $"{Markup.Escape(holder.HolderLabel ?? holder.HolderId)} ({LockTable.Seconds(holder.RemainingTtl)} left)";

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

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
