using DistLock.RedisRig;

namespace DistLock.IntegrationTests;

/// <summary>What ConnectAsync says when nodes are down, and that it stops when asked to.</summary>
public sealed class ConnectFailureTests
{
    [Fact]
    public async Task ConnectAsync_TwoOfThreeNodesDownForDifferentReasons_NamesEachNodesReason()
    {
        await using var good = await RedisServer.StartAsync();
        await using var guarded = await RedisServer.StartAsync("--requirepass", "right");
        var closed = $"127.0.0.1:{LoopbackPorts.Free()}";

        // The wrong password comes first: only the first node's reason used to be given.
        var error = await Assert.ThrowsAsync<LockBackendException>(() =>
            RedisLockManager.ConnectAsync([good.Endpoint, guarded.Endpoint + ",password=wrong", closed]));

        Assert.Contains("(2 of 3 node(s) down)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{guarded.Endpoint}: AuthenticationFailure", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{closed}: UnableToConnect", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ConnectAsync_ToAClusterSeed_WhileAnotherPrimaryIsDown_Connects()
    {
        await using var cluster = await RedisCluster.StartAsync(3);
        var primaries = await cluster.PrimariesAsync();
        primaries[1].Kill();

        // The client finds the dead primary through the seed and logs its refusal; the seed itself
        // is fine, so the node is up (it was once taken for down from that line).
        await using var manager = await RedisLockManager.ConnectAsync(primaries[0].Endpoint);
        Assert.NotNull(await manager.InspectAsync("up"));
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_SaysTheCauseOnce_WithoutTheClientsStateDump()
    {
        var closed = $"127.0.0.1:{LoopbackPorts.Free()}";

        var error = await Assert.ThrowsAsync<LockBackendException>(() => RedisLockManager.ConnectAsync(closed));

        Assert.Equal(1, Occurrences(error.Message, "refused"));
        Assert.DoesNotContain("IOCP", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("No connection is active", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_TlsToAPlainPort_SaysToCheckTls()
    {
        // The handshake waits for an answer a plain server never gives: the client reports only a timeout.
        await using var plain = await RedisServer.StartAsync();

        var error = await Assert.ThrowsAsync<LockBackendException>(() => RedisLockManager.ConnectAsync(plain.Endpoint + ",ssl=true,connectTimeout=2000"));

        Assert.Contains("ssl=true: does the server speak TLS on this port?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_CancelledWhileTheServerHoldsScripts_ThrowsOperationCanceled()
    {
        // CLIENT PAUSE WRITE lets the client connect but holds scripts, as the checks after the
        // connect (the eviction policy) send: they used to wait out NodeTimeout whatever the token said.
        await using var server = await RedisServer.StartAsync();
        await using var admin = await server.ConnectAsync(",allowAdmin=true");
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", 60000, "WRITE");
        try
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var options = new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(30) };
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RedisLockManager.ConnectAsync(server.Endpoint, options, cancellationToken: cancel.Token));

            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        }
        finally
        {
            await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
        }
    }

    private static int Occurrences(string text, string word)
    {
        var count = 0;
        for (var at = text.IndexOf(word, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(word, at + word.Length, StringComparison.OrdinalIgnoreCase))
        {
            count++;
        }

        return count;
    }
}
