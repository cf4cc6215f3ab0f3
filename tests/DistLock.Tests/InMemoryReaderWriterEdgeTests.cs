using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests;

/// <summary>
/// Reader-writer edge cases found by an adversarial review, on the in-memory manager with a fake
/// clock that the tests do not move: what must happen on a release or a departure happens at once.
/// The writer is the exclusive lock (<c>AcquireAsync</c>), which readers exclude.
/// </summary>
public sealed class InMemoryReaderWriterEdgeTests
{
    private static readonly TimeSpan RealPatience = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();

    private InMemoryLockManager Manager(InMemoryLockManager? sharedWith = null)
    {
        var options = new LockManagerOptions { TimeProvider = _time, Defaults = { Ttl = TimeSpan.FromSeconds(10), AutoExtend = false } };
        return sharedWith is null ? new InMemoryLockManager(options) : new InMemoryLockManager(sharedWith, options);
    }

    /// <summary>Two read locks under one chosen id share one lease: releasing one let the exclusive lock in while the other was Held.</summary>
    [Fact]
    public async Task TwoReadLocksWithOneId_ReleasingOne_MustNotLetTheExclusiveLockInWhileTheOtherIsHeld()
    {
        await using var readers = Manager();
        await using var writers = Manager(readers);
        var request = new LockRequest("doc") { HolderId = "worker-7" };

        var first = await readers.AcquireReadAsync(request);
        var second = await readers.TryAcquireReadAsync(request);
        Assert.True(await first.ReleaseAsync());

        var writer = await writers.TryAcquireAsync("doc");
        Assert.False(second is { State: LockState.Held } && writer is not null, "the exclusive lock is held while a read handle is still Held");
    }

    /// <summary>
    /// A reader queued behind a waiting writer (the exclusive lock) while another reader holds: when
    /// the writer gave up, nothing woke the reader (leaving the line woke nobody while the key
    /// existed); it got in only when the clock reached the holder's TTL. On a clock that does not
    /// move, it never did.
    /// </summary>
    [Fact]
    public async Task WaitingWriterGivesUp_ReaderQueuedBehindIt_GetsInWithoutTheClockMoving()
    {
        await using var first = Manager();
        await using var writers = Manager(first);
        await using var second = Manager(first);
        await using var reading = await first.AcquireReadAsync("doc");

        using var giveUp = new CancellationTokenSource();
        var writing = writers.AcquireAsync("doc", TimeSpan.FromSeconds(30), giveUp.Token);
        await Eventually.InLineAsync(first, "doc", 1);
        var joining = second.AcquireReadAsync("doc", TimeSpan.FromSeconds(30));
        await Eventually.InLineAsync(first, "doc", 2);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);
        await using var joined = await joining.WaitAsync(RealPatience);
        Assert.Equal(LockMode.Read, joined.Mode);
    }

    /// <summary>
    /// A read lock that expired (or whose release failed) leaves the lock free: waiting forever for
    /// the exclusive lock on the same manager gets it (a former upgrade check refused it once).
    /// </summary>
    [Fact]
    public async Task ReadLockLost_WaitingForeverForTheExclusiveLock_GetsIt()
    {
        await using var locks = Manager();
        var reading = await locks.AcquireReadAsync("doc");
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(LockState.Lost, reading.State);

        await using var writing = await locks.AcquireAsync("doc", Timeout.InfiniteTimeSpan);
        Assert.Equal(LockMode.Exclusive, writing.Mode);
    }
}
