// Three instances of one service (three hosts in this process, each with its own Redis connection,
// as three machines would have) run a report scheduler that must run on one instance only. The
// leader's host stops after a few seconds: it resigns, and another instance leads within
// milliseconds; its reports carry a higher fencing token. Run with --redis HOST:PORT to use your Redis.
using System.Diagnostics;
using DistLock;
using DistLock.RedisRig;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var redis = args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault();
RedisServer? ownServer = null;
if (redis is null)
{
    ownServer = await RedisServer.StartAsync();
    redis = ownServer.Endpoint;
    Console.WriteLine($"Started redis-server (pid {ownServer.ProcessId}) on {redis}; pass --redis HOST:PORT to use yours.");
}

var reports = new PublishedReports();
var election = $"distlock-sample:reports:{Guid.NewGuid():N}";
try
{
    var hosts = new List<IHost>();
    foreach (var name in new[] { "instance-a", "instance-b", "instance-c" })
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(reports);
        builder.Services.AddSingleton(new InstanceName(name));
        builder.Services.AddDistLock(settings =>
        {
            settings.Redis.Add(redis);
            settings.Defaults.Ttl = TimeSpan.FromSeconds(5);
        });
        builder.Services.AddLeaderService<ReportScheduler>(election, service => service.Election.HolderLabel = name);
        var host = builder.Build();
        await host.StartAsync();
        hosts.Add(host);
    }

    await Task.Delay(TimeSpan.FromSeconds(2));
    var leader = reports.InOrder[^1].Instance;
    var stopping = hosts[Array.IndexOf(["instance-a", "instance-b", "instance-c"], leader)];
    Console.WriteLine($"Stopping {leader}'s host (a deployment, say): it resigns on the way out.");
    var stopped = Stopwatch.StartNew();
    await stopping.StopAsync();
    var handedOver = stopped.Elapsed;
    await Task.Delay(TimeSpan.FromSeconds(2));
    foreach (var host in hosts)
    {
        await host.StopAsync();
        host.Dispose();
    }

    var published = reports.InOrder;
    var terms = published.Select(r => r.Term).Distinct().ToList();
    var inOrder = published.Zip(published.Skip(1)).All(pair => pair.First.Term <= pair.Second.Term);
    var oneInstancePerTerm = published.GroupBy(r => r.Term).All(g => g.Select(r => r.Instance).Distinct().Count() == 1);
    Console.WriteLine($"{published.Count} reports in {terms.Count} terms ({string.Join(", ", terms)}); stopping the leader took {handedOver.TotalMilliseconds:F0} ms.");
    if (terms.Count < 2 || !inOrder || !oneInstancePerTerm)
    {
        Console.WriteLine("FAILED: the terms overlapped or leadership was not handed over.");
        return 1;
    }

    Console.WriteLine("OK: one instance at a time, and each term's token above the last.");
    return 0;
}
finally
{
    if (ownServer is not null)
    {
        await ownServer.DisposeAsync();
    }
}
