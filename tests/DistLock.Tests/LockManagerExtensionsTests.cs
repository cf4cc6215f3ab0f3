using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests;

/// <summary>
/// The blocking forms of the acquire calls, on the in-process manager with a fake clock that the
/// tests do not move (a timeout never ends them): each gives its kind of lock, and its
/// CancellationToken stops it, whether cancelled before the call or while it waits, with nothing
/// left held and nobody left in line.
/// </summary>
public sealed class LockManagerExtensionsTests
{
    private const string Resource = "job";

    private readonly FakeTimeProvider _time = new();

    public static TheoryData<string> Forms =>
        [nameof(LockManagerExtensions.Acquire), nameof(LockManagerExtensions.TryAcquire), nameof(LockManagerExtensions.AcquireRead),
         nameof(LockManagerExtensions.TryAcquireRead), nameof(LockManagerExtensions.AcquireSemaphore), nameof(LockManagerExtensions.TryAcquireSemaphore)];

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task FreeResource_GivesItsKindOfLock(string form)
    {
        await using var locks = Manager();

        using var handle = Call(form, locks, CancellationToken.None);

        Assert.NotNull(handle);
        Assert.Equal(ModeOf(form), handle.Mode);
        Assert.Equal(LockState.Held, handle.State);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task CancelledBeforeTheCall_ThrowsAndHoldsNothing(string form)
    {
        await using var locks = Manager();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Assert.ThrowsAny<OperationCanceledException>(() => Call(form, locks, cancelled.Token));

        Assert.True(await IsFreeAsync(locks, form));
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task CancelledWhileWaiting_ThrowsLeavesTheLineAndHoldsNothing(string form)
    {
        await using var locks = Manager();
        await using var holder = new InMemoryLockManager(locks, new LockManagerOptions { TimeProvider = _time });
        var held = ModeOf(form) == LockMode.Semaphore ? await holder.AcquireSemaphoreAsync(Resource, 1) : await holder.AcquireAsync(Resource);
        using var giveUp = new CancellationTokenSource();

        // On a thread of its own: the call blocks until it ends.
        var blocked = Task.Run(() => Call(form, locks, giveUp.Token));
        await Eventually.TrueAsync(async () => await WaitersAsync(locks, form) == 1, $"{form} in line");
        await giveUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Eventually.Patience));
        Assert.True(await held.ReleaseAsync());
        await Eventually.TrueAsync(() => IsFreeAsync(locks, form), $"{Resource} free after {form} was cancelled");
    }

    private InMemoryLockManager Manager() => new(new LockManagerOptions { TimeProvider = _time });

    /// <summary>The blocking form named <paramref name="form"/>, waiting as long as it may (the fake clock never ends it).</summary>
    private static LockHandle? Call(string form, ILockManager locks, CancellationToken cancellationToken) => form switch
    {
        nameof(LockManagerExtensions.Acquire) => locks.Acquire(Resource, Timeout.InfiniteTimeSpan, cancellationToken),
        nameof(LockManagerExtensions.TryAcquire) => locks.TryAcquire(Resource, Timeout.InfiniteTimeSpan, cancellationToken),
        nameof(LockManagerExtensions.AcquireRead) => locks.AcquireRead(Resource, Timeout.InfiniteTimeSpan, cancellationToken),
        nameof(LockManagerExtensions.TryAcquireRead) => locks.TryAcquireRead(Resource, Timeout.InfiniteTimeSpan, cancellationToken),
        nameof(LockManagerExtensions.AcquireSemaphore) => locks.AcquireSemaphore(Resource, 1, Timeout.InfiniteTimeSpan, cancellationToken),
        nameof(LockManagerExtensions.TryAcquireSemaphore) => locks.TryAcquireSemaphore(Resource, 1, Timeout.InfiniteTimeSpan, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(form), form, "not a blocking form"),
    };

    private static LockMode ModeOf(string form) =>
        form.EndsWith("Read", StringComparison.Ordinal) ? LockMode.Read
        : form.EndsWith("Semaphore", StringComparison.Ordinal) ? LockMode.Semaphore
        : LockMode.Exclusive;

    private static async Task<int> WaitersAsync(ILockManager locks, string form) =>
        ModeOf(form) == LockMode.Semaphore ? (await locks.InspectSemaphoreAsync(Resource)).Waiters : (await locks.InspectAsync(Resource)).Waiters;

    /// <summary>Nobody holds the resource, nobody is being handed it, and nobody waits for it.</summary>
    private static async Task<bool> IsFreeAsync(ILockManager locks, string form)
    {
        if (ModeOf(form) == LockMode.Semaphore)
        {
            var semaphore = await locks.InspectSemaphoreAsync(Resource);
            return semaphore is { Holders.Count: 0, HandingOver: 0, Waiters: 0 };
        }

        var info = await locks.InspectAsync(Resource);
        return info is { HolderId: null, Readers.Count: 0, HandingOver: 0, Waiters: 0 };
    }
}
