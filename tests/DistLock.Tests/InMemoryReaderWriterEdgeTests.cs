using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests;

/// <summary>
/// Reader-writer edge cases found by an adversarial review, on the in-memory manager with a fake
/// clock that the tests do not move: what must happen on a release or a departure happens at once.
/// </summary>
public sealed class InMemoryReaderWriterEdgeTests
{
    private static readonly TimeSpan RealPatience = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();

    private InMemoryLockManager Manager(InMemoryLockManager? sharedWith = null)
    {
        var options = new LockOptions { TimeProvider = _time, Ttl = TimeSpan.FromSeconds(10), AutoExtend = false };
        return sharedWith is null ? new InMemoryLockManager(options) : new InMemoryLockManager(sharedWith, options);
    }

    /// <summary>Two read locks under one chosen id share one lease: releasing one lets a writer in while the other is Held.</summary>
    [Fact]
    public async Task TwoReadLocksWithOneId_ReleasingOne_MustNotLetAWriterInWhileTheOtherIsHeld()
    {
        await using var readers = Manager();
        await using var writers = Manager(readers);
        var request = new LockRequest("doc") { Id = "worker-7" };

        var first = await readers.AcquireReadAsync(request);
        var second = await readers.TryAcquireReadAsync(request);
        Assert.True(await first.ReleaseAsync());

        var writer = await writers.TryAcquireWriteAsync("doc");
        Assert.False(second is { State: LockState.Held } && writer is not null, "a writer holds the lock while a read handle is still Held");
    }

    /// <summary>
    /// A reader queued behind a waiting writer while another reader holds: when the writer gives up,
    /// nothing woke the reader (leaving the line woke nobody while the key existed); it got in only when
    /// the clock reaches the holder's TTL. On a clock that does not move, it never does.
    /// </summary>
    [Fact]
    public async Task WaitingWriterGivesUp_ReaderQueuedBehindIt_GetsInWithoutTheClockMoving()
    {
        await using var first = Manager();
        await using var writers = Manager(first);
        await using var second = Manager(first);
        await using var reading = await first.AcquireReadAsync("doc");

        using var giveUp = new CancellationTokenSource();
        var writing = writers.AcquireWriteAsync("doc", TimeSpan.FromSeconds(30), giveUp.Token);
        await InLineAsync(first, 1);
        var joining = second.AcquireReadAsync("doc", TimeSpan.FromSeconds(30));
        await InLineAsync(first, 2);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);
        await using var joined = await joining.WaitAsync(RealPatience);
        Assert.Equal(LockMode.Read, joined.Mode);
    }

    /// <summary>
    /// The upgrade check remembers every read handle not released, lost ones included: after the
    /// read lock expired (or its release failed), the manager holds nothing, the lock is free, and
    /// waiting forever for the write lock is still refused with "This manager holds a read lock".
    /// </summary>
    [Fact]
    public async Task ReadLockLost_WaitingForeverToWrite_IsNotRefusedAsAnUpgrade()
    {
        await using var locks = Manager();
        var reading = await locks.AcquireReadAsync("doc");
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(LockState.Lost, reading.State);

        await using var writing = await locks.AcquireWriteAsync("doc", Timeout.InfiniteTimeSpan);
        Assert.Equal(LockMode.Write, writing.Mode);
    }

    private static async Task InLineAsync(InMemoryLockManager manager, int waiters)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (manager.WaitersInLine("doc") != waiters)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < RealPatience, $"never {waiters} in line");
            await Task.Delay(10);
        }
    }
}
