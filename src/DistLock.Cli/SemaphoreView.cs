using System.Globalization;
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
        table.AddRow("resource", Markup.Escape(info.Resource));
        table.AddRow("key", Markup.Escape(info.Key));
        table.AddRow("max count", info.MaxCount == 0 ? "- (free: the next caller's --permits sets it)" : Number(info.MaxCount));
        table.AddRow("free permits", info.MaxCount == 0 ? "all" : Number(info.FreePermits));
        if (info.HandingOver > 0)
        {
            table.AddRow("handing over", $"{Number(info.HandingOver)} (reserved for woken waiters)");
        }

        table.AddRow("holders", info.Holders.Count == 0 ? "-" : string.Join('\n', info.Holders.Select(Holder)));
        table.AddRow("last fencing token", info.LastFencingToken.ToString(CultureInfo.InvariantCulture));
        table.AddRow("waiters", Number(info.Waiters));
        return table;
    }

    /// <summary>What <c>status --semaphore --watch</c> prints off a terminal, when it changes.</summary>
    public static string Line(SemaphoreInfo info) =>
        $"holders={Number(info.Holders.Count)}/{(info.MaxCount == 0 ? "-" : Number(info.MaxCount))} free={(info.MaxCount == 0 ? "all" : Number(info.FreePermits))} " +
        $"handing-over={Number(info.HandingOver)} last-fencing-token={info.LastFencingToken.ToString(CultureInfo.InvariantCulture)} waiters={Number(info.Waiters)}";

    /// <summary>The shortest TTL left among the holders, or - when none holds.</summary>
    public static string TtlOf(SemaphoreInfo info) =>
        info.Holders.Count == 0 ? "-" : LockTable.Seconds(info.Holders.Min(h => h.RemainingTtl));

    public static void Print(SemaphoreInfo info) => LockJson.Print(json =>
    {
        json.WriteStartObject();
        json.WriteString("resource", info.Resource);
        json.WriteString("key", info.Key);
        json.WriteNumber("maxCount", info.MaxCount);
        json.WriteNumber("freePermits", info.FreePermits);
        json.WriteNumber("handingOver", info.HandingOver);
        LockJson.WriteHolders(json, "holders", info.Holders);
        json.WriteNumber("lastFencingToken", info.LastFencingToken);
        json.WriteNumber("waiters", info.Waiters);
        json.WriteEndObject();
    });

    private static string Holder(LockHolder holder) =>
        $"{Markup.Escape(holder.HolderLabel ?? holder.HolderId)} ({LockTable.Seconds(holder.RemainingTtl)} left)";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
