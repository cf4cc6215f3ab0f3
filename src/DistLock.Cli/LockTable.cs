using System.Globalization;
using Spectre.Console;

namespace DistLock.Cli;

/// <summary>How locks are shown: who holds them, for how long, the last fencing token and the line.</summary>
internal static class LockTable
{
    public static string StateOf(LockInfo info) =>
        info.Readers.Count > 0 ? "read-locked" : info.HandingOver > 0 ? "handing over" : info.HolderId is null ? "free" : "held";

    /// <summary>The holder's label (see AcquireOptions.HolderLabel) when its value carries one, else its lock value.</summary>
    public static string HolderOf(LockInfo info) =>
        info.Readers.Count > 0 ? $"{info.Readers.Count} reader(s)"
        : info.HandingOver > 0 ? "(next waiter)"
        : info.HolderId is null ? "-" : info.HolderLabel ?? info.HolderId;

    /// <summary>One line per reader: who (label or id) and what is left of its lease.</summary>
    public static string ReaderOf(LockHolder reader) =>
        $"{reader.HolderLabel ?? reader.HolderId}  {Seconds(reader.RemainingTtl)}";

    /// <summary>" for 12.3 s" when the holder's value says when it acquired, else "".</summary>
    public static string HeldForOf(LockInfo info) =>
        info.HeldSince is { } since
            ? " for " + Math.Max(0, (TimeProvider.System.GetUtcNow() - since).TotalSeconds).ToString("0.0", CultureInfo.InvariantCulture) + " s"
            : "";

    /// <summary>"2026-12-05 12:19:54Z (12.3 s)" when the holder's value says when it acquired, else null.</summary>
    public static string? SinceOf(LockInfo info) =>
        info.HeldSince is { } since
            ? since.ToString("u", CultureInfo.InvariantCulture) + HeldForOf(info).Replace(" for ", " (", StringComparison.Ordinal) + ")"
            : null;

    public static string TtlOf(LockInfo info) =>
        info.RemainingTtl is { } ttl ? Seconds(ttl) : "-";

    /// <summary>A time left as the views show it: seconds to the millisecond, "1.250 s".</summary>
    public static string Seconds(TimeSpan left) => left.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    public static Table Details(LockInfo info, int nodes)
    {
        var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        table.AddRow("resource", Markup.Escape(info.Resource));
        table.AddRow("key", Markup.Escape(info.Key));
        table.AddRow("state", StateOf(info));
        table.AddRow("holder", Markup.Escape(HolderOf(info)));
        if (SinceOf(info) is { } since)
        {
            table.AddRow("held since", since);
        }

        table.AddRow("remaining ttl", TtlOf(info));
        foreach (var reader in info.Readers)
        {
            table.AddRow("reader", Markup.Escape(ReaderOf(reader)));
        }

        table.AddRow("last fencing token", info.LastFencingToken.ToString(CultureInfo.InvariantCulture));
        table.AddRow("waiters", info.Waiters.ToString(CultureInfo.InvariantCulture));
        table.AddRow("nodes holding", $"{info.NodesHolding} of {nodes}");
        return table;
    }

    public static Table List(IEnumerable<LockInfo> locks)
    {
        var table = new Table().AddColumns("resource", "state", "holder", "remaining ttl", "last fencing token", "waiters");
        foreach (var info in locks)
        {
            table.AddRow(
                Markup.Escape(info.Resource),
                StateOf(info),
                Markup.Escape(HolderOf(info)),
                TtlOf(info),
                info.LastFencingToken.ToString(CultureInfo.InvariantCulture),
                info.Waiters.ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }
}
