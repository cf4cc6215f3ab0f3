using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Inspect, list and force-release: what the command-line tool is built on. Through
/// <see cref="ILockManager"/> only, so the in-memory manager, which answers them from its own
/// state, runs them as Redis does.
/// </summary>
public abstract class AdministrationTests
{
    private readonly ILockTopology _nodes;

    protected AdministrationTests(ILockTopology topology) => _nodes = topology;

    [Fact]
    public async Task InspectAsync_HeldLock_ShowsHolderTtlFenceAndWaiters()
    {
        await using var owner = await _nodes.ConnectAsync();
        await using var waiter = await _nodes.ConnectAsync();
        var resource = "admin-" + Guid.NewGuid().ToString("N");
        await using var handle = await owner.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(20) });
        var token = await handle.GetFencingTokenAsync();
        var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(10));

        var info = await Eventually.ResultWithinAsync(Eventually.Patience, async () =>
        {
            var i = await owner.InspectAsync(resource);
            return i.Waiters == 1 ? i : null;
        });

        Assert.Equal(resource, info.Resource);
        Assert.Equal(handle.Key, info.Key);
        Assert.Equal(handle.HolderId, info.HolderId);
        Assert.Equal(0, info.HandingOver);
        Assert.InRange(info.RemainingTtl!.Value, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        Assert.True(info.LastFencingToken >= token, "the counter is the highest of the nodes'");
        var nodes = await owner.CheckNodesAsync();
        Assert.InRange(info.NodesHolding, nodes.Quorum, nodes.Nodes);
        await handle.ReleaseAsync();
        await using var next = await waiting;
    }

    [Fact]
    public async Task InspectAsync_ReadLocked_ListsEveryReaderWithItsLease()
    {
        await using var labelled = await _nodes.ConnectAsync(new LockManagerOptions { Defaults = { HolderLabel = "reader-host" } });
        await using var plain = await _nodes.ConnectAsync();
        var resource = "admin-" + Guid.NewGuid().ToString("N");
        await using var shortReader = await labelled.AcquireReadAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(5) });
        await using var longReader = await plain.AcquireReadAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(20) });
        var longToken = await longReader.GetFencingTokenAsync();

        var info = await plain.InspectAsync(resource);

        Assert.Null(info.HolderId);
        Assert.Equal(0, info.HandingOver);
        Assert.Equal([shortReader.HolderId, longReader.HolderId], info.Readers.Select(r => r.HolderId));
        Assert.InRange(info.Readers[0].RemainingTtl, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.InRange(info.Readers[1].RemainingTtl, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        Assert.Equal("reader-host", info.Readers[0].HolderLabel);
        Assert.Null(info.Readers[1].HolderLabel);
        Assert.InRange(info.RemainingTtl!.Value, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        Assert.True(info.LastFencingToken >= longToken);

        await shortReader.ReleaseAsync();
        await longReader.ReleaseAsync();
        Assert.Empty((await plain.InspectAsync(resource)).Readers);
    }

    [Fact]
    public async Task InspectAsync_HolderLabelSet_ShowsWhoHoldsItAndSinceWhen()
    {
        await using var labelled = await _nodes.ConnectAsync(new LockManagerOptions { Defaults = { HolderLabel = "reports-host pid 7" } });
        await using var plain = await _nodes.ConnectAsync();
        var resource = "admin-" + Guid.NewGuid().ToString("N");
        var before = TimeProvider.System.GetUtcNow().AddSeconds(-1);
        await using var handle = await labelled.AcquireAsync(resource);

        var info = await plain.InspectAsync(resource);

        Assert.Equal(handle.HolderId, info.HolderId);
        Assert.Equal("reports-host pid 7", info.HolderLabel);
        Assert.InRange(info.HeldSince!.Value, before, TimeProvider.System.GetUtcNow().AddSeconds(1));
        await handle.ReleaseAsync();
        await using var unlabelled = await plain.AcquireAsync(resource);
        var other = await plain.InspectAsync(resource);
        Assert.Null(other.HolderLabel);
        Assert.Null(other.HeldSince);
    }

    [Fact]
    public async Task InspectAsync_FreeLock_HasNoHolder()
    {
        await using var manager = await _nodes.ConnectAsync();

        var info = await manager.InspectAsync("never-" + Guid.NewGuid().ToString("N"));

        Assert.Null(info.HolderId);
        Assert.Null(info.RemainingTtl);
        Assert.Equal(0, info.LastFencingToken);
        Assert.Equal(0, info.NodesHolding);
    }

    [Fact]
    public async Task ListAsync_FindsHeldLocksByPattern_OnlyLockKeys()
    {
        await using var manager = await _nodes.ConnectAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        await using var a = await manager.AcquireAsync($"list-{tag}:a");
        await using var b = await manager.AcquireAsync($"list-{tag}:{{b}}");
        await using var other = await manager.AcquireAsync($"other-{tag}");

        var listed = new List<LockInfo>();
        await foreach (var info in manager.ListAsync($"list-{tag}:*"))
        {
            listed.Add(info);
        }

        Assert.Equal([$"list-{tag}:a", $"list-{tag}:{{b}}"], listed.Select(l => l.Resource).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Regression: the glob ran on keys, where a tagged name <c>{t}17</c> is <c>lock:{t}{17}</c>, so
    /// <c>t*</c> listed it (the <c>*</c> crossed the <c>}{</c>) and <c>?t}*</c> did not.
    /// </summary>
    [Fact]
    public async Task ListAsync_MatchesTheNamesAsWritten_TaggedNamesIncluded()
    {
        await using var manager = await _nodes.ConnectAsync();
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        string tagged = $"{{{tag}}}17", plain = $"{tag}17", escaped = $"{tag}*?";
        await using var a = await manager.AcquireAsync(tagged);
        await using var b = await manager.AcquireAsync(plain);
        await using var c = await manager.AcquireAsync(escaped);

        async Task<string[]> ListedAsync(string pattern) =>
            [.. (await manager.ListAsync(pattern).ToListAsync()).Select(l => l.Resource).Where(r => r.Contains(tag, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

        Assert.Equal([tagged], await ListedAsync($"{{{tag}}}*"));
        Assert.Equal([tagged], await ListedAsync($"?{tag}}}*"));
        Assert.Equal([tagged], await ListedAsync($"[{{]{tag}[}}]1?"));
        Assert.Equal([plain, tagged], await ListedAsync("*17"));
        Assert.Equal([escaped, plain], await ListedAsync($"{tag}*"));
        Assert.Equal([escaped], await ListedAsync($"{tag}\\*\\?"));
        Assert.Equal([escaped, plain, tagged], await ListedAsync("*"));
        Assert.Equal([tagged], await ListedAsync(tagged));
        Assert.Empty(await ListedAsync($"{tag}}}*"));
    }

    [Fact]
    public async Task ForceReleaseAsync_DeletesAnyHoldersLock_WakesTheWaiter_AndTheHolderLosesIt()
    {
        await using var owner = await _nodes.ConnectAsync();
        await using var waiter = await _nodes.ConnectAsync();
        await using var admin = await _nodes.ConnectAsync();
        var resource = "stuck-" + Guid.NewGuid().ToString("N");
        // TTL 9 s: a waiter served within 6 s was woken, not let in by the lease's end; the holder's
        // next extension (every 3 s) finds it lost.
        var stuck = await owner.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(9) });
        var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await admin.InspectAsync(resource)).Waiters == 1), "the waiter never joined the line");

        Assert.True(await admin.ForceReleaseAsync(resource));

        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(6)); // well before the 9 s TTL
        await stuck.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(15));
        Assert.False(await stuck.ReleaseAsync());
        var after = await admin.InspectAsync(resource);
        Assert.Equal(next.HolderId, after.HolderId);
        Assert.True(after.NodesHolding >= (await admin.CheckNodesAsync()).Quorum, "the waiter holds the lock on a majority");
    }

    [Fact]
    public async Task AdministrationCalls_RejectBadArguments()
    {
        await using var manager = await _nodes.ConnectAsync();

        await Assert.ThrowsAsync<ArgumentException>("resource", () => manager.InspectAsync(""));
        await Assert.ThrowsAsync<ArgumentException>("resource", () => manager.ForceReleaseAsync(" "));
        Assert.Throws<ArgumentException>("pattern", () => manager.ListAsync(""));
    }
}
