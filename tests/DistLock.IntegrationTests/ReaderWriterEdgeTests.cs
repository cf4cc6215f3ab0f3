using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Edge cases of reader-writer locks found by an adversarial review, on one real redis-server.
/// </summary>
[Collection(SingleNodeCollection.Name)]
public sealed class ReaderWriterEdgeTests(SingleNodeFixture nodes)
{
    private static readonly TimeSpan LongTtl = TimeSpan.FromSeconds(20);

    private static string NewResource() => "rw-edge-" + Guid.NewGuid().ToString("N");

    private Task<RedisLockManager> ManagerAsync(LockOptions? options = null) =>
        nodes.ConnectAsync(options ?? new LockOptions { Ttl = LongTtl, RetryDelay = TimeSpan.FromSeconds(5) });

    /// <summary>
    /// Two read locks under the same caller-chosen id share one entry in the readers' set, so the
    /// first release frees the lock for a writer while the second handle still reports Held. The
    /// exclusive lock (SET NX) and the semaphore ("an id holds at most one") both refuse a second
    /// hold under the same id; the read lock must too (or count the holds).
    /// </summary>
    [Fact]
    public async Task TwoReadLocksWithOneId_ReleasingOne_MustNotLetAWriterInWhileTheOtherIsHeld()
    {
        await using var readers = await ManagerAsync();
        await using var writers = await ManagerAsync();
        var resource = NewResource();
        var request = new LockRequest(resource) { Id = "worker-7" };

        var first = await readers.AcquireReadAsync(request);
        var second = await readers.TryAcquireReadAsync(request);
        Assert.True(await first.ReleaseAsync());

        var writer = await writers.TryAcquireWriteAsync(resource);
        var bothHeld = second is { State: LockState.Held } && writer is not null;
        Assert.False(bothHeld, "a writer holds the lock while a read handle is still Held");
        if (writer is not null)
        {
            await writer.ReleaseAsync();
        }
    }
}
