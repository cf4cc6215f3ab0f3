using Microsoft.Extensions.Time.Testing;

namespace DistLock.TestingSample;

public sealed class ReportPublisherTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task TryPublish_WhileAnotherInstanceHoldsTheLock_DoesNothing()
    {
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _clock });
        await using var otherInstance = await locks.AcquireAsync("reports:daily");
        var publisher = new ReportPublisher(locks);

        Assert.False(await publisher.TryPublishAsync());
        Assert.Equal(0, publisher.Published);
    }

    [Fact]
    public async Task TryPublish_AfterACrashedHoldersTtl_Publishes()
    {
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = _clock });
        // A holder that dies without releasing: no extension, so its TTL runs out.
        _ = await locks.AcquireAsync(new LockRequest("reports:daily") { Ttl = TimeSpan.FromMinutes(1), AutoExtend = false });
        var publisher = new ReportPublisher(locks);
        Assert.False(await publisher.TryPublishAsync());

        _clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1)); // no waiting: the fake clock moves

        Assert.True(await publisher.TryPublishAsync());
        Assert.Equal(1, publisher.Published);
    }
}
