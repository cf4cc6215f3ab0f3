using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>Semaphore edge cases found by an adversarial review, on one real redis-server.</summary>
[Collection(SingleNodeCollection.Name)]
public sealed class SemaphoreEdgeTests(SingleNodeFixture nodes)
{
    private static readonly RedisLockManagerOptions Options = new() { Defaults = { Ttl = TimeSpan.FromSeconds(20) } };

    /// <summary>
    /// "An id holds at most one" permit (acquire-semaphore.lua refuses a free permit to an id that
    /// holds one), but a permit a release reserved for a waiting id is taken without that check: the
    /// second hold overwrites the first one's entry, so two handles count as one holder, and a third
    /// caller gets a permit: three Held handles on a semaphore of two.
    /// </summary>
    [Fact]
    public async Task SameIdWaitingForASecondPermit_ClaimingTheReservation_MustNotExceedMaxCount()
    {
        await using var owner = await nodes.ConnectAsync(Options);
        await using var other = await nodes.ConnectAsync(Options);
        await using var third = await nodes.ConnectAsync(Options);
        var resource = "sem-edge-" + Guid.NewGuid().ToString("N");
        var request = new LockRequest(resource) { HolderId = "worker-7", Timeout = TimeSpan.FromSeconds(3) };

        await using var first = await owner.AcquireSemaphoreAsync(request, 2);
        var released = await other.AcquireSemaphoreAsync(resource, 2);
        var waiting = owner.AcquireSemaphoreAsync(request, 2);
        await SemaphoreProbe.WaitersAsync(owner, resource, 1);

        await released.ReleaseAsync();
        LockHandle? second = null;
        try
        {
            second = await waiting;
        }
        catch (LockTimeoutException)
        {
            // Refused as a second hold by the same id: what the free-permit path does.
        }

        await using var extra = await third.TryAcquireSemaphoreAsync(resource, 2);
        var held = new[] { first, second, extra }.Count(h => h is { State: LockState.Held });
        Assert.True(held <= 2, $"{held} Held handles on a semaphore of 2");
        if (second is not null)
        {
            await second.DisposeAsync();
        }
    }
}
