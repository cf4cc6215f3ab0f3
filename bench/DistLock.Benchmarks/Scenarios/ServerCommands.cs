using StackExchange.Redis;

namespace DistLock.Benchmarks.Scenarios;

/// <summary>
/// Commands the servers executed (INFO stats total_commands_processed), commands run inside
/// scripts included: the load a library puts on Redis. The counter's own INFO calls are taken out.
/// </summary>
public sealed class ServerCommands : IAsyncDisposable
{
    private readonly ConnectionMultiplexer[] _admins;

    private ServerCommands(ConnectionMultiplexer[] admins) => _admins = admins;

    public static async Task<ServerCommands> ConnectAsync(IEnumerable<string> endpoints) =>
        new(await Task.WhenAll(endpoints.Select(e => ConnectionMultiplexer.ConnectAsync(e + ",allowAdmin=true"))));

    public async Task<long> ReadAsync()
    {
        long total = 0;
        foreach (var admin in _admins)
        {
            var info = await admin.GetServer(admin.GetEndPoints()[0]).InfoAsync("stats");
            total += long.Parse(info.SelectMany(g => g).First(kv => kv.Key == "total_commands_processed").Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return total - _admins.Length; // this INFO counts once it has run
    }

    /// <summary>CPU time the servers have used (INFO cpu: used_cpu_user + used_cpu_sys, whole server), in microseconds.</summary>
    public async Task<double> ReadCpuMicrosecondsAsync()
    {
        double total = 0;
        foreach (var admin in _admins)
        {
            var info = (await admin.GetServer(admin.GetEndPoints()[0]).InfoAsync("cpu")).SelectMany(g => g).ToList();
            total += Seconds("used_cpu_user") + Seconds("used_cpu_sys");
            double Seconds(string name) => double.Parse(info.First(kv => kv.Key == name).Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return total * 1_000_000;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var admin in _admins)
        {
            await admin.DisposeAsync();
        }
    }
}
