using System.CommandLine.Parsing;

namespace DistLock.Cli.Commands;

/// <summary>
/// <c>distlock exec --resource A --resource B</c>: run the command holding several locks together,
/// all or none (the library's <c>AcquireAllAsync</c>). One holder id holds every member, the
/// handle extends them together, and losing any member is losing the hold.
/// </summary>
internal static class ExecSet
{
    /// <summary>
    /// The names --resource gave, checked before anything connects: each not empty, duplicates
    /// counted once, and a set only as exclusive locks (the library takes read locks and semaphore
    /// permits one resource at a time). A set comes back sorted (ordinal), as the library orders it.
    /// </summary>
    public static IReadOnlyList<string> Names(IReadOnlyList<string> resources, bool read, bool permits)
    {
        var names = resources.Select(r => CommonOptions.ResourceName(r, "--resource")).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count == 1)
        {
            return names;
        }

        var other = read ? "--read" : permits ? "--permits" : null;
        if (other is not null)
        {
            throw new CliException(
                ExitCodes.Usage,
                $"several --resource names are taken together as exclusive locks: they do not go with {other} (read locks and semaphore permits are taken one resource at a time)");
        }

        try
        {
            return new LockRequest(names).Resources;
        }
        catch (ArgumentException ex)
        {
            // Too many names, or one the library refuses (too long...), said about the flag that gave it.
            throw new CliException(ExitCodes.Usage, $"--resource: {ErrorText.Clean(ex.Message)}", ex);
        }
    }

    /// <summary>
    /// Every --resource has a name of its own: "--resource a --resource -- cmd" parses as [a], and
    /// "--resource a --resource --read" as [a, --read], and either way a lock the user meant to take
    /// would be left out.
    /// </summary>
    public static void RequireNames(OptionResult result)
    {
        var options = (result.Parent as CommandResult)?.Command.Options ?? [];
        var flag = result.Tokens.Select(t => t.Value)
            .FirstOrDefault(value => value == CommonOptions.VerboseFlag || options.Any(o => o.Name == value || o.Aliases.Contains(value)));
        if (flag is not null || result.Tokens.Count < result.IdentifierTokenCount)
        {
            result.AddError($"--resource: each --resource needs a NAME after it{(flag is null ? "" : $", not the flag {flag}")}");
        }
    }

    /// <summary>"'a', 'b'": the names as messages quote them.</summary>
    public static string Quoted(IReadOnlyList<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    /// <summary>
    /// For the waiting notice: who holds the members that are not free, each as exec says it of one
    /// lock ("'b': held by build-2 pid 4121: ..."). Each member is read in turn, so it is a glimpse.
    /// </summary>
    public static async Task<string> HoldersAsync(RedisLockManager locks, IReadOnlyList<string> names, Func<LockInfo, string> holder, CancellationToken cancellationToken)
    {
        var busy = new List<string>();
        foreach (var name in names)
        {
            var info = await locks.InspectAsync(name, cancellationToken);
            if (info.HolderId is not null || info.Readers.Count > 0 || info.HandingOver > 0)
            {
                busy.Add($"'{name}': {holder(info)}");
            }
        }

        return busy.Count == 0 ? "they were just released" : string.Join("; ", busy);
    }
}
