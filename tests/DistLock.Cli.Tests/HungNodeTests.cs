using System.Diagnostics;
using System.Text.Json;
using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>A Redlock node that accepts connections but never answers (SIGSTOP), as a hung or overloaded server does.</summary>
[Collection(RedisCollection.Name)]
public sealed class HungNodeTests(RedisFixture redis)
{
    /// <summary>The tool's default connect timeout (RedisTargets.ConnectTimeout).</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task PausedRedlockNodes_CostAboutTheConnectTimeout_AndAreNamedWithAShortReason()
    {
        // Regression: each paused node added an unbounded PING after the connect timeout, one node
        // after the other (2.3 s a node), and the warning was a StackExchange.Redis client dump.
        var servers = await RedisServer.StartManyAsync(4);
        try
        {
            var resource = "hung-" + Guid.NewGuid().ToString("N")[..8];
            string[] live = ["--redis", redis.Endpoint, "--redis", servers[0].Endpoint, "--redis", servers[1].Endpoint];

            // The same call with two nodes that refuse at once: the difference is what paused nodes cost.
            var refused = $"127.0.0.1:{LoopbackPorts.Free()}";
            var refusedToo = $"127.0.0.1:{LoopbackPorts.Free()}";
            var timer = Stopwatch.StartNew();
            using (var baseline = await Tool.RunAsync(["status", resource, "--json", .. live, "--redis", refused, "--redis", refusedToo]))
            {
                Assert.Equal(0, baseline.ExitCode);
            }

            var baselineTime = timer.Elapsed;
            await servers[2].PauseAsync();
            await servers[3].PauseAsync();
            timer.Restart();
            using var tool = await Tool.RunAsync(["status", resource, "--json", .. live, "--redis", servers[2].Endpoint, "--redis", servers[3].Endpoint]);
            var cost = timer.Elapsed - baselineTime;

            // The connect timeout, the 0.3 s a timed-out node is asked again (a connection a moment
            // from done is up), and room for a loaded machine (1.99 s beside a CPU hog): well below
            // the 4.6 s the two nodes cost one after the other.
            Assert.True(cost < ConnectTimeout + TimeSpan.FromSeconds(1.5), $"paused nodes cost {cost.TotalSeconds:0.00} s (baseline {baselineTime.TotalSeconds:0.00} s)");
            Assert.Equal(0, tool.ExitCode);
            Assert.Equal(5, JsonDocument.Parse(tool.Stdout).RootElement.GetProperty("nodes").GetInt32());
            Assert.Equal(
                $"distlock: warning: Redis node(s) down: {servers[2].Endpoint} (not answering), {servers[3].Endpoint} (not answering); going on with 3 of 5",
                tool.Stderr.Trim());
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Resume();
                await server.DisposeAsync();
            }
        }
    }
}
