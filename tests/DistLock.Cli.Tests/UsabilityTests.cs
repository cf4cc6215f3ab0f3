using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>Issue 19, "first hour": help, error lines, a dead node, the waiting notice, --json, --watch, exit codes.</summary>
[Collection(RedisCollection.Name)]
public sealed class UsabilityTests(RedisFixture redis)
{
    private static string NewResource() => "use-" + Guid.NewGuid().ToString("N")[..8];

    [Theory]
    [InlineData]
    [InlineData("exec")]
    [InlineData("status")]
    [InlineData("list")]
    [InlineData("release")]
    [InlineData("serve")]
    [InlineData("demo")]
    public async Task Help_EveryCommand_WorksAndShowsAnExample_UnderTheNameDistlock(params string[] command)
    {
        // Regression: "exec --help" failed with "exec needs --" (64), and usage said DistLock.Cli.
        using var tool = await Tool.RunAsync([.. command, "--help"]);

        Assert.Equal(0, tool.ExitCode);
        Assert.Contains($"Usage:\n  distlock {string.Join(' ', command)}".TrimEnd(), tool.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("Examples:\n  distlock " + string.Join(' ', command), tool.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("DistLock.Cli", tool.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_SaysSo_AndSuggestsTheNearest()
    {
        using var tool = await Tool.RunAsync(["stauts", "x"]);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal("distlock: unknown command 'stauts'; did you mean 'status'? (see distlock --help)", tool.Stderr.Trim());
    }

    [Theory]
    [InlineData("distlock: give a command: exec, status, list, release, serve, demo (see distlock --help)")]
    [InlineData("distlock: unknown option '--verbos' for distlock; did you mean '--verbose'? (see distlock --help)", "--verbos")]
    [InlineData("distlock: unknown option '--jsn' for distlock status; did you mean '--json'? (see distlock status --help)", "status", "x", "--jsn")]
    // Regression: a mistyped flag where the name goes was taken as the name: "list --jsn" said "no locks", exit 0.
    [InlineData("distlock: unknown option '--jsn' for distlock list; did you mean '--json'? (see distlock list --help)", "list", "--jsn")]
    [InlineData("distlock: unknown option '--jsn' for distlock status; did you mean '--json'? (see distlock status --help)", "status", "--jsn")]
    [InlineData("distlock: unknown option '--frce' for distlock release; did you mean '--force'? (see distlock release --help)", "release", "--frce", "x")]
    // Regression: "as expected type 'System.Nullable`1[System.Int32]'".
    [InlineData("distlock: --permits: 'two' is not a whole number (see distlock exec --help)", "exec", "--resource", "x", "--permits", "two", "--", "true")]
    [InlineData("distlock: --port: 'abc' is not a whole number (see distlock serve --help)", "serve", "--port", "abc")]
    [InlineData("distlock: --seconds: '2s' is not a number (see distlock demo --help)", "demo", "--seconds", "2s")]
    public async Task BadUsage_SaysWhatToType(string expected, params string[] arguments)
    {
        using var tool = await Tool.RunAsync(arguments);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
    }

    [Fact]
    public async Task VerboseBeforeTheCommand_StillFindsExecsCommand()
    {
        using var tool = await Tool.RunAsync(["--verbose", "exec", "--resource", NewResource(), "--", "sh", "-c", "exit 5"], redis.Endpoint);

        Assert.Equal(5, tool.ExitCode);
    }

    /// <summary>
    /// Regression (a review, 2026-12-06): "distlock: Could not acquire lock 'lock:{x}': Redis at ...
    /// failed", without why: the client's diagnostics went, and the kind of failure with them.
    /// </summary>
    [Fact]
    public async Task RedisDiesWhileExecWaits_Exits69_SayingWhatFailed()
    {
        await using var server = await RedisServer.StartAsync();
        var resource = "dies-" + Guid.NewGuid().ToString("N")[..8];
        await using var locks = await RedisLockManager.ConnectAsync(server.Endpoint);
        _ = await locks.AcquireAsync(resource);
        using var tool = Tool.Start(["exec", "--resource", resource, "--", "true"], server.Endpoint);
        await Until.TrueAsync(async () => (await locks.InspectAsync(resource)).Waiters > 0, "exec waits in line");

        server.Kill();

        Assert.Equal(69, await tool.WaitAsync());
        var line = tool.Stderr.Trim();
        // The whole line in the message: xunit's own shows only where the two start to differ.
        Assert.True(line.StartsWith($"distlock: could not acquire lock 'lock:{{{resource}}}': Redis at {server.Endpoint} failed (", StringComparison.Ordinal), line);
        Assert.True(line.EndsWith(')'), line);
        Assert.DoesNotContain("IOCP", line, StringComparison.Ordinal);
    }

    /// <summary>Regression (a review, 2026-12-06): a wrong or missing password read "(SimpleError: NOAUTH Authentication required. ...)".</summary>
    [Fact]
    public async Task RedisWithAPassword_WrongOrMissing_SaysAuthenticationFailed()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "right");

        // A patient connect: with the tool's 1 s default a busy machine turned "authentication failed" into "not answering".
        using var wrong = await Tool.RunAsync(["status", "x", "--redis", server.Endpoint + ToolTarget.Patient + ",password=wrong"]);
        using var missing = await Tool.RunAsync(["status", "x", "--redis", server.Endpoint + ToolTarget.Patient]);
        using var right = await Tool.RunAsync(["status", "x", "--redis", server.Endpoint + ToolTarget.Patient + ",password=right"]);

        foreach (var tool in new[] { wrong, missing })
        {
            Assert.Equal(69, tool.ExitCode);
            Assert.Equal($"distlock: cannot reach Redis at {server.Endpoint} (authentication failed: the server wants a password, or refused the one given (password=... in --redis))", tool.Stderr.Trim());
        }

        Assert.True(right.ExitCode == 0, right.Stderr);
    }

    [Fact]
    public async Task UnreachableRedis_OneActionableLine_NoClientDumpOrExceptionType_DetailsWithVerbose()
    {
        using var tool = await Tool.RunAsync(["status", "x", "--redis", "127.0.0.1:1"]);
        using var verbose = await Tool.RunAsync(["status", "x", "--redis", "127.0.0.1:1", "--verbose"]);

        Assert.Equal(69, tool.ExitCode);
        Assert.Equal("distlock: cannot reach Redis at 127.0.0.1:1 (Connection refused)", tool.Stderr.Trim());
        Assert.Equal(69, verbose.ExitCode);
        Assert.Contains("RedisConnectionException", verbose.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadRedlockNode_CostsAtMostTheShortConnectTimeout_AndIsNamed()
    {
        // Regression: a dead node added StackExchange.Redis's 5 s connect timeout to every call.
        await using var second = await RedisServer.StartAsync();
        var dead = $"127.0.0.1:{LoopbackPorts.Free()}";
        var timer = Stopwatch.StartNew();

        using var tool = await Tool.RunAsync(["status", NewResource(), "--json", "--redis", redis.Endpoint, "--redis", second.Endpoint, "--redis", dead]);

        Assert.Equal(0, tool.ExitCode);
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(4.5), $"took {timer.Elapsed}");
        Assert.Contains($"Redis node(s) down: {dead} (Connection refused); going on with 2 of 3", tool.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, JsonDocument.Parse(tool.Stdout).RootElement.GetProperty("nodes").GetInt32());
    }

    [Fact]
    public async Task StatusAndList_Json_UseTheLibrarysNames()
    {
        var resource = NewResource();
        await using var handle = await redis.Locks.AcquireAsync(resource);
        var token = await handle.GetFencingTokenAsync();

        using var status = await Tool.RunAsync(["status", resource, "--json"], redis.Endpoint);
        using var list = await Tool.RunAsync(["list", resource, "--json"], redis.Endpoint);

        Assert.Equal(0, status.ExitCode);
        var one = JsonDocument.Parse(status.Stdout).RootElement;
        Assert.Equal(JsonFields.Lock, one.EnumerateObject().Select(p => p.Name));
        Assert.Equal("held", one.GetProperty("state").GetString());
        Assert.Equal(handle.HolderId, one.GetProperty("holderId").GetString());
        Assert.Equal(token, one.GetProperty("lastFencingToken").GetInt64());
        Assert.Equal(JsonValueKind.Number, one.GetProperty("handingOver").ValueKind);
        Assert.Equal(0, one.GetProperty("handingOver").GetInt32());
        Assert.InRange(one.GetProperty("remainingTtlMs").GetInt64(), 1, 30_000);
        Assert.Equal(0, list.ExitCode);
        var listed = Assert.Single(JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray());
        Assert.Equal(JsonFields.Lock, listed.EnumerateObject().Select(p => p.Name));
        Assert.Equal(resource, listed.GetProperty("resource").GetString());
        Assert.Equal(handle.HolderId, listed.GetProperty("holderId").GetString());
    }

    [Fact]
    public async Task Exec_StoresWhoHoldsTheLock_StatusAndWaitersShowIt()
    {
        var resource = NewResource();
        var ready = Path.Combine(Path.GetTempPath(), "distlock-label-" + Guid.NewGuid().ToString("N"));
        using var holder = Tool.Start(["exec", "--resource", resource, "--", "sh", "-c", $"trap 'exit 0' TERM; touch {ready}; while :; do sleep 0.05; done"], redis.Endpoint);
        try
        {
            await Until.TrueAsync(() => File.Exists(ready));

            using var status = await Tool.RunAsync(["status", resource, "--json"], redis.Endpoint);
            var json = JsonDocument.Parse(status.Stdout).RootElement;
            var label = json.GetProperty("holderLabel").GetString()!;
            Assert.Contains($"pid {holder.Process.Id}: sh -c", label, StringComparison.Ordinal);
            var since = DateTimeOffset.Parse(json.GetProperty("heldSince").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            // Regression: written HTML-escaped, "2026-11-27T22:59:18.0860000\u002B00:00".
            Assert.Contains($"\"heldSince\": \"{json.GetProperty("heldSince").GetString()}\"", status.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("\\u", status.Stdout, StringComparison.Ordinal);
            Assert.InRange(since, TimeProvider.System.GetUtcNow().AddMinutes(-1), TimeProvider.System.GetUtcNow().AddSeconds(1));

            using var table = await Tool.RunAsync(["status", resource], redis.Endpoint);
            Assert.Contains("held since", table.Stdout, StringComparison.Ordinal);

            using var waiter = await Tool.RunAsync(["exec", "--resource", resource, "--wait", "300ms", "--verbose", "--label", "nightly job", "--", "true"], redis.Endpoint);
            Assert.Equal(75, waiter.ExitCode);
            Assert.Contains($"held by {Environment.MachineName} pid {holder.Process.Id}", waiter.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Signals.Send(holder.Process.Id, 15);
            await holder.WaitAsync(20);
            File.Delete(ready);
        }
    }

    [Fact]
    public async Task Status_FreeLock_Json_SaysFreeWithNulls()
    {
        using var tool = await Tool.RunAsync(["status", NewResource(), "--json"], redis.Endpoint);

        var json = JsonDocument.Parse(tool.Stdout).RootElement;
        Assert.Equal("free", json.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("holderId").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("remainingTtlMs").ValueKind);
        Assert.Equal(0, json.GetProperty("handingOver").GetInt32());
        Assert.Equal(0, json.GetProperty("lastFencingToken").GetInt64());
    }

    [Fact]
    public async Task StatusWatch_ShowsChanges_AndStopsOnSigTerm_WithZero()
    {
        var resource = NewResource();
        using var tool = Tool.Start(["status", resource, "--watch"], redis.Endpoint);
        await Until.TrueAsync(() => tool.Stdout.Contains("free", StringComparison.Ordinal));

        await using (var handle = await redis.Locks.AcquireAsync(resource))
        {
            await Until.TrueAsync(() => tool.Stdout.Contains("held holder=" + handle.HolderId, StringComparison.Ordinal));
        }

        // The line names what status --json names: the last fencing token, the remaining TTL.
        var held = tool.Stdout.Split('\n').First(l => l.Contains("held holder=", StringComparison.Ordinal));
        Assert.Matches(@" last-fencing-token=\d+ waiters=\d+ remaining-ttl=\d", held);

        Signals.Send(tool.Process.Id, 15);
        Assert.Equal(0, await tool.WaitAsync(20));
        Assert.DoesNotContain('\u001b', tool.Stdout);
    }

    [Fact]
    public async Task Exec_WaitingWithVerbose_SaysOnceWhoHoldsTheLock()
    {
        var resource = NewResource();
        await using var held = await redis.Locks.AcquireAsync(resource);

        using var tool = await Tool.RunAsync(["exec", "--resource", resource, "--wait", "1s", "--verbose", "--", "true"], redis.Endpoint);

        Assert.Equal(75, tool.ExitCode);
        var lines = tool.Stderr.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"distlock: waiting for '{resource}' (up to 1s): held by holder id {held.HolderId}", lines[0], StringComparison.Ordinal);
        Assert.Equal($"distlock: lock '{resource}' is held by someone else; not acquired within 1s", lines[1]);
    }

    [Fact]
    public async Task Exec_WaitingOffATerminal_SaysNothingUntilTheOutcome()
    {
        var resource = NewResource();
        await using var held = await redis.Locks.AcquireAsync(resource);

        using var tool = await Tool.RunAsync(["exec", "--resource", resource, "--wait", "300ms", "--", "true"], redis.Endpoint);

        Assert.Equal(75, tool.ExitCode);
        Assert.Single(tool.Stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("10ms", "distlock: --ttl: 10ms is too short to be extended in time; the lowest that works is 200ms")]
    [InlineData("30", "distlock: --ttl: '30' needs a unit: 30s, 30ms... (250ms, 10s, 5m, 2h, 1d, 1m30s or 00:00:30)")]
    public async Task Exec_UnworkableTtl_IsRefused_WithTheLowestThatWorks(string ttl, string expected)
    {
        using var tool = await Tool.RunAsync(["exec", "--resource", NewResource(), "--ttl", ttl, "--", "true"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
    }

    [Fact]
    public async Task Exec_CompoundDurations_AreAccepted()
    {
        using var tool = await Tool.RunAsync(["exec", "--resource", NewResource(), "--ttl", "1m30s", "--wait", "00:00:05", "--", "true"], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
    }

    /// <summary>
    /// Regression (a review, 2026-12-07): a Redis that finished the connection a moment after the
    /// tool's connect timeout was "cannot reach Redis at ... (not answering)" or even "(answers
    /// now)", exit 69, when four tools started at once on a busy machine (2 of 190 starts; at a 60-70
    /// ms connect timeout, 3 to 28 of 40 against a healthy local server).
    /// </summary>
    [Fact]
    public async Task Status_RedisThatAnswersJustAfterTheConnectTimeout_IsUp()
    {
        // 20 ms past the connect timeout (it starts before the relay accepts). The later the answer,
        // the likelier StackExchange.Redis drops the socket still connecting at a heartbeat after the
        // timeout and reconnects only at the next, past the probe's 0.3 s: with 100 ms and 50 ms
        // past, one run in a few failed so (exit 69 after 1 s).
        await using var relay = HeldRepliesRelay.Start(redis.Server.Port, hold: TimeSpan.FromMilliseconds(420));

        using var tool = await Tool.RunAsync(["status", NewResource(), "--json", "--redis", $"127.0.0.1:{relay.Port},connectTimeout=400"]);

        Assert.True(tool.ExitCode == 0, $"exit {tool.ExitCode}: {tool.Stderr.Trim()}");
        Assert.Equal(string.Empty, tool.Stderr.Trim());
    }

    [Fact]
    public async Task Serve_PortInUse_Exits69_WithOneLine()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using var tool = await Tool.RunAsync(["serve", "--port", port.ToString(CultureInfo.InvariantCulture)], timeoutSeconds: 30);

        Assert.Equal(69, tool.ExitCode);
        Assert.Equal($"distlock: port {port} on 127.0.0.1 is in use; pick another with --port", tool.Stderr.Trim());
    }

    [Fact]
    public async Task Demo_UnreachableRedis_Exits69_BeforeStartingWorkers()
    {
        using var tool = await Tool.RunAsync(["demo", "--seconds", "1", "--redis", "127.0.0.1:1"]);

        Assert.Equal(69, tool.ExitCode);
        Assert.Equal("distlock: cannot reach Redis at 127.0.0.1:1 (Connection refused)", tool.Stderr.Trim());
        Assert.Equal(string.Empty, tool.Stdout.Trim()); // no live table of idle workers
    }

    [Fact]
    public async Task Exec_CommandThatCannotBeRun_Exits126()
    {
        var file = Path.Combine(Path.GetTempPath(), NewResource() + ".sh");
        await File.WriteAllTextAsync(file, "#!/bin/sh\nexit 0\n"); // not executable
        try
        {
            using var tool = await Tool.RunAsync(["exec", "--resource", NewResource(), "--", file], redis.Endpoint);

            Assert.Equal(126, tool.ExitCode);
            Assert.Single(tool.Stderr.Trim().Split('\n'));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(2, 130)]
    [InlineData(15, 143)]
    public async Task Exec_InterruptedWhileWaiting_Exits128PlusTheSignal_AndTakesNothing(int signal, int expected)
    {
        var resource = NewResource();
        await using var held = await redis.Locks.AcquireAsync(resource);
        using var tool = Tool.Start(["exec", "--resource", resource, "--", "true"], redis.Endpoint);
        for (var i = 0; i < 500 && (await redis.Locks.InspectAsync(resource)).Waiters == 0; i++)
        {
            await Task.Delay(20); // until distlock is in the lock's line
        }

        Signals.Send(tool.Process.Id, signal);

        Assert.Equal(expected, await tool.WaitAsync(20));
        Assert.Equal(held.HolderId, (await redis.Locks.InspectAsync(resource)).HolderId);
    }
}
