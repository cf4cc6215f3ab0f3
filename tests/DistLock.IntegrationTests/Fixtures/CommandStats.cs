using System.Globalization;
using DistLock.Transport;
using StackExchange.Redis;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// What a redis-server ran of the commands a lock sends (SET, and the scripts: EVAL and EVALSHA),
/// from INFO commandstats. A node that answered late, or was paused, runs what was sent to it after
/// the call that sent it returned; what those commands leave (no key) often looks the same before
/// they run as after, so a test that checks it first waits on these counts.
/// </summary>
public sealed class CommandStats
{
    private readonly Dictionary<string, (long Calls, long Failed)> _commands;

    private CommandStats(Dictionary<string, (long Calls, long Failed)> commands) => _commands = commands;

    /// <summary>SETs (an uncontended acquire is SET NX PX; the SETs scripts make count too) and scripts that ran to the end.</summary>
    private long LockCommands => Ran("set") + Scripts;

    /// <summary>Scripts that ran to the end; one that failed with NOSCRIPT did not, its resend by text does.</summary>
    private long Scripts => Ran("eval") + Ran("evalsha");

    private long FailedScripts => _commands.GetValueOrDefault("eval").Failed + _commands.GetValueOrDefault("evalsha").Failed;

    public static async Task<CommandStats> OfAsync(IServer server)
    {
        var commands = new Dictionary<string, (long Calls, long Failed)>(StringComparer.Ordinal);
        foreach (var (name, value) in (await server.InfoAsync("commandstats")).SelectMany(group => group))
        {
            // cmdstat_evalsha:calls=2,usec=54,usec_per_call=27.00,rejected_calls=0,failed_calls=1
            var fields = value.Split(',').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
            commands[name["cmdstat_".Length..]] = (long.Parse(fields["calls"], CultureInfo.InvariantCulture), long.Parse(fields["failed_calls"], CultureInfo.InvariantCulture));
        }

        return new CommandStats(commands);
    }

    /// <summary>The stats, or null when the server did not answer in time (a loaded machine): a look to repeat.</summary>
    public static async Task<CommandStats?> TryOfAsync(IServer server)
    {
        try
        {
            return await OfAsync(server);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Loads every script DistLock sends, so that a node runs each call as it comes (no NOSCRIPT, no resend).</summary>
    public static async Task LoadScriptsAsync(IServer server)
    {
        var scripts = typeof(LockScript).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(p => p.PropertyType == typeof(LockScript))
            .Select(p => (LockScript)p.GetValue(null)!);
        foreach (var script in scripts)
        {
            await server.ScriptLoadAsync(script.Text);
        }
    }

    /// <summary>
    /// Whether a node paused since <paramref name="before"/> (read when nothing was on its way to it)
    /// ran what was sent to it meanwhile. A paused server runs the commands that queued up on a
    /// connection in one go when it wakes, so one of them having run means they all did; and a
    /// script it did not know failed with NOSCRIPT and counts once it ran again, sent by its text.
    /// What its answers lead to (the release of a late grant) may come later: a key that waits for
    /// that is there meanwhile, so the caller's look for "no key" waits for it.
    /// </summary>
    public bool RanWhatWaitedSince(CommandStats before) =>
        LockCommands - before.LockCommands >= 1 && Scripts - before.Scripts >= FailedScripts - before.FailedScripts;

    /// <summary>How many SETs and scripts ran to the end since <paramref name="before"/>.</summary>
    public long LockCommandsSince(CommandStats before) => LockCommands - before.LockCommands;

    /// <summary>How many calls of <paramref name="command"/> (lower case, as INFO names it) ran to the end, inside scripts too.</summary>
    public long Ran(string command) => _commands.TryGetValue(command, out var stats) ? stats.Calls - stats.Failed : 0;
}
