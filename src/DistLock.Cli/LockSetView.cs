using Spectre.Console;

namespace DistLock.Cli;

/// <summary>
/// <c>distlock status A B ...</c>: several locks side by side, and which of them one holder holds
/// together (a set taken with <c>exec --resource A --resource B</c> or the library's
/// <c>AcquireAllAsync</c>: each member is the ordinary lock of its name, under the set's holder id).
/// </summary>
internal static class LockSetView
{
    /// <summary>The flags that show one thing only: a usage error with several names.</summary>
    public static void Check(bool several, bool watch, bool semaphore, bool leader)
    {
        var refusal = !several ? null
            : watch ? "--watch follows one lock: give one name (or poll status --json with several)"
            : semaphore ? "--semaphore shows one semaphore: give one name (several names are locks, and a set of locks holds no permits)"
            : leader ? "--leader shows one election: give one name"
            : null;
        if (refusal is not null)
        {
            throw new CliException(ExitCodes.Usage, refusal);
        }
    }

    /// <summary>Reads each lock in turn (a glimpse, as list is) and shows them: a table, or a JSON array with heldWith.</summary>
    public static async Task<int> ShowAsync(RedisLockManager locks, IReadOnlyList<string> resources, bool json, CancellationToken cancellationToken)
    {
        var shown = new List<LockInfo>();
        foreach (var resource in resources)
        {
            shown.Add(await locks.InspectAsync(resource, cancellationToken));
        }

        if (json)
        {
            LockJson.Print(writer =>
            {
                writer.WriteStartArray();
                foreach (var info in shown)
                {
                    LockJson.Write(writer, info, locks.NodeCount, HeldWith(info, shown));
                }

                writer.WriteEndArray();
            });
            return ExitCodes.Success;
        }

        AnsiConsole.Write(LockTable.List(shown));
        foreach (var together in shown.Where(i => HolderIdOf(i) is not null).GroupBy(HolderIdOf).Where(g => g.Count() > 1))
        {
            AnsiConsole.WriteLine($"held together (one holder id): {string.Join(", ", together.Select(i => i.Resource))}");
        }

        return ExitCodes.Success;
    }

    /// <summary>The other shown locks that <paramref name="info"/>'s holder holds too, in the order shown; empty when free, read-locked or handing over.</summary>
    public static IEnumerable<string> HeldWith(LockInfo info, IReadOnlyList<LockInfo> shown) =>
        HolderIdOf(info) is { } holderId
            ? shown.Where(other => other.Resource != info.Resource && HolderIdOf(other) == holderId).Select(other => other.Resource)
            : [];

    // As status --json shows it: while a release hands the lock over, the key holds a reservation, not a holder's id.
    private static string? HolderIdOf(LockInfo info) => info.HandingOver > 0 ? null : info.HolderId;
}
