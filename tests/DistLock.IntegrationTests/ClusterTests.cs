using DistLock.RedisRig;
using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>What only a cluster has: many slots on several primaries, slot migration, failover.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTopologyTests(ClusterFixture nodes)
{
    // A waiter that missed its wake-up would sleep for the holder's 30 s TTL and time out instead.
    // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
    // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out.
    private static readonly RedisLockManagerOptions Patient = new() { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { RetryDelay = TimeSpan.FromSeconds(10), Ttl = TimeSpan.FromSeconds(30) } };

    private static string NewResource() => "cluster-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task ManyResources_SpreadOverEveryPrimary_AndEveryScriptStaysInOneSlot()
    {
        await using var manager = await nodes.ConnectAsync();
        var before = await nodes.KeysPerPrimaryAsync();

        var handles = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => manager.AcquireAsync(NewResource())));
        var during = await nodes.KeysPerPrimaryAsync();
        var tokens = await Task.WhenAll(handles.Select(h => h.GetFencingTokenAsync().AsTask()));
        foreach (var handle in handles)
        {
            Assert.True(await handle.ReleaseAsync());
        }

        Assert.All(before.Zip(during), p => Assert.True(p.Second > p.First, "every primary holds some of the locks"));
        Assert.Equal(300, tokens.Count(t => t > 0));
    }

    [Fact]
    public async Task AclUserWithTheDocumentedClusterRights_AcquiresWaitsExtendsAndReleases()
    {
        // ACL users are per node in a cluster: the rule goes to every primary and replica.
        foreach (var server in nodes.Cluster.Servers)
        {
            await RedisCli.CommandAsync(server.Port, ["ACL", "SETUSER", .. ClusterUser.Split(' ')]);
        }

        var config = nodes.Cluster.Configuration + ",user=distlock-cluster,password=lock-secret";
        await using var holder = await RedisLockManager.ConnectAsync(config, Patient);
        await using var waiter = await RedisLockManager.ConnectAsync(config, Patient);
        var resource = NewResource();

        var held = await holder.AcquireAsync(resource);
        var heldToken = await held.GetFencingTokenAsync();
        var waiting = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(20));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await nodes.ChannelsAsync($"lock:{{{resource}}}:wake:*"))[0] == 1));
        Assert.True(await held.ExtendAsync());
        await held.ReleaseAsync();
        await using var next = await waiting; // woken by SPUBLISH on a sharded channel this user may use

        Assert.True(next.AcquireDelay < TimeSpan.FromSeconds(8), $"woken after {next.AcquireDelay}"); // before the 10 s retry
        Assert.True(await next.GetFencingTokenAsync() > heldToken);
        Assert.Equal(next.HolderId, (await waiter.InspectAsync(resource)).HolderId);
    }

    /// <summary>docs/deployment.md's ACL rule plus the cluster additions it lists.</summary>
    private const string ClusterUser =
        "distlock-cluster " + AclTests.DistLockUserRights + " +spublish +ssubscribe +sunsubscribe +cluster|nodes";

    [Fact]
    public async Task BracesInsideAResourceName_CannotChooseTheSlot_ALeadingHashTagDoes()
    {
        await using var manager = await nodes.ConnectAsync();
        var tag = Guid.NewGuid().ToString("N");
        var slots = new HashSet<int>();
        var tagged = new HashSet<int>();
        for (var i = 0; i < 12; i++)
        {
            // Unescaped, "{tag}" would be the hash tag and put all of these in one slot.
            await using var handle = await manager.AcquireAsync($"x{{{tag}}}:{i}}}{{");
            var slot = await nodes.Cluster.SlotOfAsync(handle.Key);
            Assert.Equal(slot, await nodes.Cluster.SlotOfAsync(handle.Key + ":fence"));
            Assert.Equal(slot, await nodes.Cluster.SlotOfAsync(handle.Key + ":waiters"));
            slots.Add(slot);

            // A name that starts with a tag chooses it, as a Redis key does (docs/design.md, "Keys").
            await using var chosen = await manager.AcquireAsync($"{{{tag}}}:{i}}}{{");
            tagged.Add(await nodes.Cluster.SlotOfAsync(chosen.Key));
            Assert.Equal(tagged.Single(), await nodes.Cluster.SlotOfAsync(chosen.Key + ":waiters"));
        }

        Assert.True(slots.Count > 6, $"12 resources fell into {slots.Count} slots");
        await using var plain = await manager.AcquireAsync(tag);
        Assert.Equal(tagged.Single(), await nodes.Cluster.SlotOfAsync(plain.Key));
    }

    [Fact]
    public async Task HeldLock_LivesThroughASlotMigration_AndAWaiterIsWokenAfterIt()
    {
        // A NodeTimeout a loaded machine can meet while the cluster settles after the move (CI once
        // saw the release take over the default 1 s there).
        await using var owner = await nodes.ConnectAsync(new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(3), Defaults = { Ttl = TimeSpan.FromSeconds(3) } });
        await using var other = await nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var handle = await owner.AcquireAsync(resource);
        var slot = await nodes.Cluster.SlotOfAsync(handle.Key);
        var source = await nodes.Cluster.PrimaryOfSlotAsync(slot);
        var target = (await nodes.Cluster.PrimariesAsync()).First(p => p != source);

        // Extensions run every second, so some land while the slot is half-moved (ASK redirects).
        await nodes.Cluster.MigrateSlotAsync(slot, target, pause: TimeSpan.FromMilliseconds(1500));
        await ExtendedTwiceOrLostAsync(handle); // two more extensions, on the new primary

        Assert.Equal(target, await nodes.Cluster.PrimaryOfSlotAsync(slot));
        Assert.Equal(LockState.Held, handle.State);
        Assert.False(handle.LostToken.IsCancellationRequested);
        Assert.Null(await other.TryAcquireAsync(resource));

        var waiting = other.AcquireAsync(resource, TimeSpan.FromSeconds(10));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await owner.InspectAsync(resource)).Waiters >= 1), "the waiter never joined the line");
        var token = await handle.GetFencingTokenAsync();
        Assert.True(await handle.ReleaseAsync());
        await using var next = await waiting;
        Assert.True(await next.GetFencingTokenAsync() > token);
    }

    [Fact]
    public async Task HeldLock_LivesThroughAFailover_AndAWaiterIsWokenAfterIt()
    {
        // A NodeTimeout a loaded machine can meet while the cluster settles after the failover.
        await using var owner = await nodes.ConnectAsync(new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(3), Defaults = { Ttl = TimeSpan.FromSeconds(3) } });
        await using var other = await nodes.ConnectAsync(Patient);
        var resource = NewResource();
        var handle = await owner.AcquireAsync(resource);
        var slot = await nodes.Cluster.SlotOfAsync(handle.Key);
        var replica = await nodes.Cluster.ReplicaOfAsync(await nodes.Cluster.PrimaryOfSlotAsync(slot));
        var waiting = other.AcquireAsync(resource, TimeSpan.FromSeconds(15));

        await nodes.Cluster.FailoverAsync(replica);
        await ExtendedTwiceOrLostAsync(handle); // two more extensions, on the promoted replica

        Assert.Equal(replica, await nodes.Cluster.PrimaryOfSlotAsync(slot));
        Assert.Equal(LockState.Held, handle.State);
        Assert.False(handle.LostToken.IsCancellationRequested);
        Assert.False(waiting.IsCompleted);
        var token = await handle.GetFencingTokenAsync();
        Assert.True(await handle.ReleaseAsync());
        await using var next = await waiting;
        Assert.True(await next.GetFencingTokenAsync() > token);
    }

    /// <summary>
    /// Regression: disposing a manager while a set across slots waits (keeping the slots it took)
    /// closed the connection under the clean-up that gives back what it kept (warning 1002), so those
    /// members stayed held by a caller that was gone until their TTL: 2 minutes here, well past the
    /// patience of the polls. Seven slots kept make a clean-up that the close overtook every time.
    /// </summary>
    [Fact]
    public async Task DisposingTheManager_WhileASetAcrossSlotsWaits_FreesWhatTheSetKept()
    {
        await using var holder = await nodes.ConnectAsync(Patient);
        await using var inspector = await nodes.ConnectAsync();
        var waiter = await nodes.ConnectAsync(new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromMinutes(2) } });
        var names = await NamesInSlotOrderAsync(8);
        var (kept, busy) = (names[..^1], names[^1]);
        await using var held = await holder.AcquireAsync(busy);

        // The set takes its slots in order and keeps those below the member held while it waits.
        var waiting = waiter.AcquireAllAsync(names, Timeout.InfiniteTimeSpan);
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () =>
            (await inspector.InspectAsync(busy)).Waiters == 1 && (await inspector.InspectAsync(kept[0])).HolderId is not null),
            "the set never waited keeping the members before the one held");
        await waiter.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);

        foreach (var name in kept)
        {
            Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await inspector.InspectAsync(name)) is { HolderId: null, HandingOver: 0 }),
                $"{name} stayed kept for the disposed manager's set");
        }
    }

    /// <summary>New names whose locks are each in a slot of its own, in slot order.</summary>
    private async Task<string[]> NamesInSlotOrderAsync(int count)
    {
        var bySlot = new SortedDictionary<int, string>();
        while (bySlot.Count < count)
        {
            var name = NewResource();
            bySlot.TryAdd(await nodes.Cluster.SlotOfAsync($"lock:{{{name}}}"), name);
        }

        return [.. bySlot.Values];
    }

    /// <summary>
    /// Waits until <paramref name="handle"/> has been extended twice more (each extension moves
    /// ValidUntil on), or is lost: the extensions the test is about, rather than a sleep that a
    /// loaded machine may fill with fewer of them.
    /// </summary>
    private static async Task ExtendedTwiceOrLostAsync(LockHandle handle)
    {
        var seen = handle.ValidUntil;
        var extensions = 0;
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () =>
        {
            if (handle.ValidUntil > seen)
            {
                seen = handle.ValidUntil;
                extensions++;
            }

            return Task.FromResult(extensions >= 2 || handle.State != LockState.Held);
        }), $"extended {extensions} times, not twice");
    }
}
