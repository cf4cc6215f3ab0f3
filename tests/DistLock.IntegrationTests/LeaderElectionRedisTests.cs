using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;
using Xunit.Abstractions;

namespace DistLock.IntegrationTests;

/// <summary>
/// What an election costs Redis and how it looks when Redis is gone, on one redis-server: a
/// candidate waiting behind a live leader sends next to nothing (it sleeps until woken), the
/// leader service's health entry is Unhealthy while Redis is down, then leads again once it is back,
/// and a leader service shows the holder label of DistLock's settings when it names none itself.
/// The behaviour on every topology is <see cref="LeaderElectionSemanticsTests"/>.
/// </summary>
[Collection(SingleNodeCollection.Name)]
public sealed class LeaderElectionRedisTests(SingleNodeFixture nodes, ITestOutputHelper output)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    // -1 (the default) and 0: a manager whose callers try once must not make its candidates poll.
    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    public async Task CandidatesWaitingBehindALiveLeader_SendAtMostFiveCommandsEachPerTenSeconds(int maxRetries)
    {
        var name = "elect-" + Guid.NewGuid().ToString("N");
        var options = new RedisLockManagerOptions { Defaults = { Ttl = Ttl, MaxRetries = maxRetries } };
        await using var leaderLocks = await nodes.ConnectAsync(options);
        await using var leader = leaderLocks.CreateElection(name);
        var term = await leader.WaitForLeadershipAsync();

        // Each candidate on a connection of its own, counted by StackExchange.Redis's profiler (as the
        // bench's blocked-waiter scenario counts): what the candidate sends, whatever it is.
        var candidates = new List<(ConnectionMultiplexer Connection, ProfilingSession Session, RedisLockManager Locks, LeaderElection Election)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var connection = await ConnectionMultiplexer.ConnectAsync(nodes.Endpoints[0]);
                var session = new ProfilingSession();
                connection.RegisterProfiler(() => session);
                var locks = new RedisLockManager(connection, options);
                candidates.Add((connection, session, locks, locks.CreateElection(name)));
            }

            var waiting = candidates.Select(c => c.Election.WaitForLeadershipAsync()).ToList();
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await nodes.WaitersAsync(name) == 3), "the candidates never all waited in line");
            foreach (var candidate in candidates)
            {
                candidate.Session.FinishProfiling(); // counting starts once each is asleep in line
            }

            var window = TimeSpan.FromSeconds(10);
            await Task.Delay(window); // time must pass: what a waiting candidate sends over it is what is measured

            var sent = candidates.Select(c => c.Session.FinishProfiling().Select(command => command.Command).ToList()).ToList();
            output.WriteLine($"commands sent by each waiting candidate in {window.TotalSeconds} s (lease {Ttl.TotalSeconds} s, extended every third): " +
                string.Join("; ", sent.Select(s => $"{s.Count} ({string.Join(" ", s)})")));
            Assert.All(sent, s => Assert.True(s.Count <= 5, $"a waiting candidate sent {s.Count} commands: {string.Join(" ", s)}"));
            Assert.All(waiting, w => Assert.False(w.IsCompleted));

            // Asleep, not gone: the resignation still reaches the first of them at once.
            await term.ResignAsync();
            var next = await Task.WhenAny(waiting).WaitAsync(Eventually.Patience);
            Assert.True((await next).FencingToken > term.FencingToken);
        }
        finally
        {
            foreach (var candidate in candidates)
            {
                await candidate.Election.DisposeAsync();
                await candidate.Locks.DisposeAsync();
                await candidate.Connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task LeaderServiceHealth_UnhealthyWhileRedisIsDown_ThenLeadsAgainWhenItIsBack()
    {
        // A server of this test's own: it is killed and started again.
        await using var server = await RedisServer.StartAsync();
        var name = "elect-" + Guid.NewGuid().ToString("N");
        var terms = new List<long>();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Services.AddDistLock(settings =>
        {
            settings.Redis.Add(server.Endpoint + ",connectTimeout=1000");
            settings.NodeTimeout = TimeSpan.FromMilliseconds(500);
        });
        builder.Services.AddLeaderService(
            name,
            async (_, term, stopping) =>
            {
                lock (terms)
                {
                    terms.Add(term.FencingToken);
                }

                await Task.Delay(Timeout.Infinite, stopping);
            },
            options =>
            {
                options.Election.Ttl = TimeSpan.FromSeconds(3);
                options.Election.MaxRetryBackoff = TimeSpan.FromMilliseconds(500);
            });
        builder.Services.AddHealthChecks().AddLeaderService(name);
        using var host = builder.Build();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();

        var leading = await EntryWithinAsync(health, e => e.Status == HealthStatus.Healthy && e.Data["leader"] is true);
        server.Kill();
        var down = await EntryWithinAsync(health, e => e.Status == HealthStatus.Unhealthy);
        await server.RestartAsync();

        // Restarted empty, Redis forgot the term; the service hears of it at its next extension and leads a new one.
        var back = await EntryWithinAsync(health, e => e.Status == HealthStatus.Healthy && e.Data["leader"] is true && e.Data.ContainsKey("term") && TermCount() >= 2);
        await host.StopAsync();

        output.WriteLine($"leading: {leading.Description}; Redis down: {down.Description}; back: {back.Description}");
        Assert.Contains(name, leading.Description, StringComparison.Ordinal);
        Assert.Contains(server.Endpoint, down.Description, StringComparison.Ordinal);
        Assert.True(terms.Count >= 2, $"terms {string.Join(", ", terms)}: the service did not lead again");
        Assert.Equal(terms[^1], back.Data["term"]);

        int TermCount()
        {
            lock (terms)
            {
                return terms.Count;
            }
        }
    }

    [Fact]
    public async Task LeaderService_WithoutALabelOfItsOwn_ShowsTheLabelOfDistLocksSettings()
    {
        var name = "elect-" + Guid.NewGuid().ToString("N");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Services.AddDistLock(settings =>
        {
            settings.Redis.Add(nodes.Endpoints[0]);
            settings.Defaults.HolderLabel = "web-3";
        });
        builder.Services.AddLeaderService(name, (_, _, stopping) => Task.Delay(Timeout.Infinite, stopping));
        builder.Services.AddHealthChecks().AddLeaderService(name);
        using var host = builder.Build();
        await host.StartAsync();

        var leading = await EntryWithinAsync(host.Services.GetRequiredService<HealthCheckService>(), e => e.Status == HealthStatus.Healthy && e.Data["leader"] is true && e.Data.ContainsKey("leaderLabel"));
        await host.StopAsync();

        Assert.Equal("web-3", leading.Data["leaderLabel"]);
    }

    private static async Task<HealthReportEntry> EntryWithinAsync(HealthCheckService health, Func<HealthReportEntry, bool> condition)
    {
        HealthReportEntry entry = default;
        Assert.True(
            await Eventually.TrueWithinAsync(Eventually.Patience, async () => condition(entry = (await health.CheckHealthAsync()).Entries.Single().Value)),
            $"the leader entry stayed {entry.Status}: {entry.Description}");
        return entry;
    }
}
