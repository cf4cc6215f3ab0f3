using System.Globalization;
using Spectre.Console;

namespace DistLock.Cli;

/// <summary>
/// A lock shown as an election (<c>status --leader</c>, exec's notice while it campaigns): an
/// election is the lock of its name, so its holder is the leader, its last fencing token the
/// current term's (a leader takes one as its term begins), and its waiters the candidates. The
/// words are the election's; the JSON keeps the lock's names (docs/cli.md), one name per thing.
/// </summary>
internal static class LeaderView
{
    /// <summary>The leader's label (or holder id), or why there is none.</summary>
    public static string LeaderOf(LockInfo info) =>
        info.Readers.Count > 0 ? $"none (read-locked by {info.Readers.Count} reader(s): not an election's lock)"
        : info.HandingOver > 0 ? "(being handed to the next candidate)"
        : info.HolderId is null ? "none"
        : info.HolderLabel ?? info.HolderId;

    /// <summary>"led by web-3 pid 4121: ./reportd (term 17), 27.412 s of its lease left (renewed while it runs), 1 other candidate(s)".</summary>
    public static string Summary(LockInfo info) =>
        info.HolderId is null || info.HandingOver > 0
            ? $"{LeaderOf(info)}, {Candidates(info)} other candidate(s)"
            : $"led by {LeaderOf(info)} (term {Term(info)}), {LockTable.TtlOf(info)} of its lease left (renewed while it runs), {Candidates(info)} other candidate(s)";

    /// <summary>What <c>status --leader --watch</c> prints off a terminal, when it changes.</summary>
    public static string Line(LockInfo info) => $"leader={LeaderOf(info)} term={Term(info)} candidates={Candidates(info)}";

    public static Table Details(LockInfo info, int nodes)
    {
        var leads = info.HolderId is not null && info.HandingOver == 0;
        var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        table.AddRow("election", Markup.Escape(info.Resource));
        table.AddRow("key", Markup.Escape(info.Key));
        table.AddRow("leader", Markup.Escape(LeaderOf(info)));
        if (leads && LockTable.SinceOf(info) is { } since)
        {
            table.AddRow("leader since", since);
        }

        table.AddRow(leads ? "term" : "last term", info.LastFencingToken == 0 ? "none yet" : $"{Term(info)} (its fencing token)");
        table.AddRow("remaining ttl", LockTable.TtlOf(info));
        table.AddRow("candidates", $"{Candidates(info)} waiting");
        table.AddRow("nodes holding", $"{info.NodesHolding} of {nodes}");
        return table;
    }

    private static string Term(LockInfo info) => info.LastFencingToken.ToString(CultureInfo.InvariantCulture);

    private static string Candidates(LockInfo info) => info.Waiters.ToString(CultureInfo.InvariantCulture);
}
