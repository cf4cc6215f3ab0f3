namespace DistLock.Cli.Tests;

[Collection(RedisCollection.Name)]
public sealed class InspectTests(RedisFixture redis)
{
    [Fact]
    public async Task Status_ShowsHolderTtlAndFencingCounter()
    {
        var resource = "status-" + Guid.NewGuid().ToString("N")[..8];
        await using var handle = await redis.Locks.AcquireAsync(resource);
        var token = await handle.GetFencingTokenAsync();

        using var tool = await Tool.RunAsync(["status", resource], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
        Assert.Contains(handle.HolderId, tool.Stdout, StringComparison.Ordinal);
        Assert.Contains(token.ToString(System.Globalization.CultureInfo.InvariantCulture), tool.Stdout, StringComparison.Ordinal);
        Assert.Contains("held", tool.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_FreeLock_SaysFree()
    {
        using var tool = await Tool.RunAsync(["status", "nobody-" + Guid.NewGuid().ToString("N")[..8]], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
        Assert.Contains("free", tool.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_SeveralNames_SaysWhichOneHolderHoldsTogether()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (a, b, c, free) = ($"acct{tag}-a", $"acct{tag}-b", $"acct{tag}-c", $"acct{tag}-free");
        await using var both = await redis.Locks.AcquireAllAsync([a, b]);
        await using var alone = await redis.Locks.AcquireAsync(c);

        using var json = await Tool.RunAsync(["status", b, a, c, free, "--json"], redis.Endpoint);
        using var table = await Tool.RunAsync(["status", a, b, c], redis.Endpoint);

        Assert.Equal(0, json.ExitCode);
        var shown = System.Text.Json.JsonDocument.Parse(json.Stdout).RootElement.EnumerateArray().ToList();
        Assert.All(shown, l => Assert.Equal(JsonFields.LockAmongSeveral, l.EnumerateObject().Select(p => p.Name)));
        Assert.Equal([b, a, c, free], shown.Select(l => l.GetProperty("resource").GetString()));
        Assert.Equal([both.HolderId, both.HolderId, alone.HolderId, null], shown.Select(l => l.GetProperty("holderId").GetString()));
        string?[][] heldWith = [[a], [b], [], []];
        Assert.Equal(heldWith, shown.Select(l => l.GetProperty("heldWith").EnumerateArray().Select(n => n.GetString()).ToArray()));
        Assert.Equal(0, table.ExitCode);
        Assert.Contains($"held together (one holder id): {a}, {b}\n", table.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain($"{b}, {c}", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ShowsTheMatchingLocks()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        await using var a = await redis.Locks.AcquireAsync($"list{tag}-a");
        await using var b = await redis.Locks.AcquireAsync($"list{tag}-b");
        await using var other = await redis.Locks.AcquireAsync($"other{tag}");

        using var tool = await Tool.RunAsync(["list", $"list{tag}-*"], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
        Assert.Contains($"list{tag}-a", tool.Stdout, StringComparison.Ordinal);
        Assert.Contains($"list{tag}-b", tool.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain($"other{tag}", tool.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_AsksFirst_AndDeclinesWithoutYes()
    {
        var resource = "stuck-" + Guid.NewGuid().ToString("N")[..8];
        await using var handle = await redis.Locks.AcquireAsync(resource);

        using var declined = await Tool.RunAsync(["release", resource, "--force"], redis.Endpoint, stdin: "n\n");
        Assert.Equal(1, declined.ExitCode);
        // Regression: "...? [y/N] distlock: not released", on one line, when stdin is not a terminal.
        Assert.EndsWith("? [y/N] \ndistlock: not released", declined.Stderr.ReplaceLineEndings("\n").TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(handle.HolderId, (await redis.Locks.InspectAsync(resource)).HolderId);

        using var withoutForce = await Tool.RunAsync(["release", resource], redis.Endpoint);
        Assert.Equal(64, withoutForce.ExitCode);

        using var confirmed = await Tool.RunAsync(["release", resource, "--force"], redis.Endpoint, stdin: "y\n");
        Assert.Equal(0, confirmed.ExitCode);
        Assert.Null((await redis.Locks.InspectAsync(resource)).HolderId);
    }

    [Fact]
    public async Task Release_WithYes_DeletesWithoutAsking_AndTheHolderLearnsItLostTheLock()
    {
        var resource = "stuck-" + Guid.NewGuid().ToString("N")[..8];
        var handle = await redis.Locks.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(900) });

        using var tool = await Tool.RunAsync(["release", resource, "--force", "--yes"], redis.Endpoint);

        Assert.Equal(0, tool.ExitCode);
        Assert.Contains("released", tool.Stdout, StringComparison.Ordinal);
        await Until.TrueAsync(() => handle.LostToken.IsCancellationRequested); // at its next extension, within a third of its TTL
        Assert.Equal(LockState.Lost, handle.State);
    }

    /// <summary>Regression (a review, 2026-12-06): a read-locked lock was "not held" to release, and stayed.</summary>
    [Fact]
    public async Task Release_ReadLockedLock_DeletesTheReaders_AfterNamingThem()
    {
        var resource = "read-" + Guid.NewGuid().ToString("N")[..8];
        var reader = await redis.Locks.AcquireReadAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(900) });

        using var declined = await Tool.RunAsync(["release", resource, "--force"], redis.Endpoint, stdin: "n\n");
        Assert.Equal(1, declined.ExitCode);
        Assert.Contains("held by 1 reader(s)", declined.Stderr, StringComparison.Ordinal);

        using var tool = await Tool.RunAsync(["release", resource, "--force", "--yes"], redis.Endpoint);
        Assert.Equal(0, tool.ExitCode);
        Assert.Contains("released", tool.Stdout, StringComparison.Ordinal);
        Assert.Empty((await redis.Locks.InspectAsync(resource)).Readers);
        await Until.TrueAsync(() => reader.LostToken.IsCancellationRequested);
    }
}
