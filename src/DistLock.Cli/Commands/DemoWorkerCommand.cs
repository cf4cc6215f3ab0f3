using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace DistLock.Cli.Commands;

/// <summary>
/// The demo's worker (hidden): takes the lock again and again, and inside it increments a shared
/// counter with a read, a pause and a write, which would lose updates without the lock. Reports
/// each critical section on stdout for the demo to check.
/// </summary>
internal static class DemoWorkerCommand
{
    public static Command Create()
    {
        var redis = CommonOptions.Redis();
        var resource = new Option<string>("--resource") { Required = true };
        var seconds = new Option<double>("--seconds") { Required = true };
        var id = new Option<int>("--id") { Required = true };
        var worker = new Command("worker", "The demo's worker process") { redis, resource, seconds, id };
        worker.Hidden = true;
        worker.SetAction((parse, cancellationToken) => RunAsync(
            Environment.GetEnvironmentVariable(TargetsVariable) is { Length: > 0 } given ? given.Split('\n') : RedisTargets.Resolve(parse.GetValue(redis)),
            parse.GetValue(resource)!, parse.GetValue(seconds), parse.GetValue(id), cancellationToken));
        return worker;
    }

    /// <summary>
    /// How the demo hands its Redis configurations to its workers, one a line: in the environment,
    /// not on their command lines, where any user's `ps` would show a password.
    /// </summary>
    public const string TargetsVariable = "DISTLOCK_DEMO_TARGETS";

    public static RedisKey CounterKey(string resource) => $"distlock-demo:{resource}:counter";

    private static async Task<int> RunAsync(IReadOnlyList<string> targets, string resource, double seconds, int id, CancellationToken cancellationToken)
    {
        // A demo runs on laptops and CI machines that are busy with other work: a slow answer should
        // slow it down, not end it (a 1 s node timeout failed it under a load average of 11).
        var options = new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(3), Defaults = { Ttl = TimeSpan.FromSeconds(10) } };
        await using var connection = await RedisTargets.ConnectAsync(targets, options, cancellationToken);
        var locks = connection.Locks;
        await using var data = await ConnectionMultiplexer.ConnectAsync(targets[0]);
        var counter = data.GetDatabase();
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            var asked = Stopwatch.GetTimestamp();
            await using var handle = await locks.AcquireAsync(resource, TimeSpan.FromSeconds(30), cancellationToken);
            var start = Stopwatch.GetTimestamp();
            var token = await handle.GetFencingTokenAsync(cancellationToken);
            Report("acquired", id, token);
            var value = (long?)await counter.StringGetAsync(CounterKey(resource)) ?? 0;
            await Task.Delay(Random.Shared.Next(1, 4), cancellationToken);
            await counter.StringSetAsync(CounterKey(resource), value + 1);
            var end = Stopwatch.GetTimestamp();
            Report("section", id, token, start, end, start - asked);
        }

        return ExitCodes.Success;
    }

    private static void Report(string kind, int id, long token, params long[] times)
    {
        var fields = new[] { kind, id.ToString(CultureInfo.InvariantCulture), token.ToString(CultureInfo.InvariantCulture) }
            .Concat(times.Select(t => t.ToString(CultureInfo.InvariantCulture)));
        Console.Out.WriteLine(string.Join(' ', fields));
        Console.Out.Flush();
    }
}
