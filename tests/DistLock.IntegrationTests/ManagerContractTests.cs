using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// What any <see cref="ILockManager"/> promises, run against Redis (one node and three) and the
/// in-process manager, so that tests written against the in-memory one hold for the real one.
/// </summary>
public abstract class ManagerContractTests
{
    protected abstract Task<ILockManager> CreateAsync(LockOptions? options = null);

    private static string NewResource() => "contract-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task HeldLock_IsExclusive_UntilReleased()
    {
        await using var first = await CreateAsync();
        await using var second = await CreateAsync();
        var resource = NewResource();

        var handle = await first.AcquireAsync(resource);
        Assert.Null(await second.TryAcquireAsync(resource));
        Assert.True(await first.ReleaseAsync(handle));
        Assert.False(await handle.ReleaseAsync());
        await using var next = await second.TryAcquireAsync(resource);

        Assert.NotNull(next);
        Assert.Equal(LockState.Released, handle.State);
    }

    [Fact]
    public async Task BusyUntilTheTimeout_ThrowsLockTimeoutException()
    {
        await using var first = await CreateAsync();
        await using var second = await CreateAsync();
        var resource = NewResource();
        await using var held = await first.AcquireAsync(resource);

        await Assert.ThrowsAsync<LockTimeoutException>(() => second.AcquireAsync(resource, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Waiter_IsWokenByTheRelease_NotByPolling()
    {
        var patient = new LockOptions { RetryDelay = TimeSpan.FromSeconds(10) };
        await using var first = await CreateAsync(patient);
        await using var second = await CreateAsync(patient);
        var resource = NewResource();
        var held = await first.AcquireAsync(resource);
        var waiting = second.AcquireAsync(resource, TimeSpan.FromSeconds(8));
        await Task.Delay(100);

        await held.ReleaseAsync();
        await using var handle = await waiting;

        Assert.True(handle.AcquireDelay < TimeSpan.FromSeconds(3), $"acquired after {handle.AcquireDelay}");
    }

    [Fact]
    public async Task WithoutExtension_TheLockExpires_AndTheHolderLearnsItLostIt()
    {
        await using var first = await CreateAsync();
        await using var second = await CreateAsync();
        var resource = NewResource();
        var stale = await first.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromMilliseconds(200), AutoExtend = false });

        await stale.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(5));
        await using var next = await second.AcquireAsync(resource, TimeSpan.FromSeconds(5));

        Assert.Equal(LockState.Lost, stale.State);
        Assert.False(await stale.ExtendAsync());
        Assert.True(next.FencingToken > stale.FencingToken);
    }

    [Fact]
    public async Task AutoExtension_KeepsTheLockPastItsTtl()
    {
        await using var first = await CreateAsync();
        await using var second = await CreateAsync();
        var resource = NewResource();
        await using var handle = await first.AcquireAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(2) });

        await Task.Delay(4500);

        Assert.Null(await second.TryAcquireAsync(resource));
        Assert.Equal(LockState.Held, handle.State);
    }

    [Fact]
    public async Task CustomValue_IsTheHandlesId_AndTokensIncrease()
    {
        await using var manager = await CreateAsync();
        var resource = NewResource();
        long previous = 0;
        for (var i = 0; i < 3; i++)
        {
            await using var handle = await manager.AcquireAsync(new LockRequest(resource) { Value = $"worker-{i}" });
            Assert.Equal($"worker-{i}", handle.Id);
            Assert.True(handle.FencingToken > previous);
            previous = handle.FencingToken;
        }
    }

    [Fact]
    public async Task Cancellation_StopsTheWait_AndLeavesNothingHeld()
    {
        await using var first = await CreateAsync();
        await using var second = await CreateAsync();
        var resource = NewResource();
        var held = await first.AcquireAsync(resource);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AcquireAsync(resource, Timeout.InfiniteTimeSpan, cancel.Token));
        await held.ReleaseAsync();

        await using var again = await second.TryAcquireAsync(resource);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task HandleOfAnotherManager_IsRejected_AndNodesAnswer()
    {
        await using var first = await CreateAsync();
        await using var second = await CreateAsync();
        await using var handle = await first.AcquireAsync(NewResource());

        await Assert.ThrowsAsync<ArgumentException>("handle", async () => await second.ReleaseAsync(handle));
        Assert.True((await first.CheckNodesAsync()).Available);
    }
}
