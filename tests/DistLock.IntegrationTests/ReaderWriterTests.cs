using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>
/// Reader-writer locks on every topology, through <see cref="ILockManager"/> only: many readers or
/// one writer, the writer taking the exclusive lock (<c>AcquireAsync</c>); writers preferred;
/// waiting without polling; a lease per reader; fencing tokens from the resource's one counter.
/// The matrix is in TestMatrix.cs.
/// </summary>
public abstract class ReaderWriterTests
{
    // Long enough that a test passing within it proves a wake, not an expiry.
    private static readonly TimeSpan LongTtl = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly ILockTopology _topology;

    protected ReaderWriterTests(ILockTopology topology) => _topology = topology;

    private static string NewResource() => "rw-" + Guid.NewGuid().ToString("N");

    // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
    // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out. A
    // NodeTimeout of 5 s (RedisLockManagerOptions also serves the in-memory manager): none of these
    // cases is about a slow node, and in the first seconds of a test run, when every fixture starts
    // its servers, a call was seen to take over the default 1 s.
    private Task<ILockManager> ManagerAsync(LockManagerOptions? options = null) =>
        _topology.ConnectAsync(options ?? new RedisLockManagerOptions
        {
            NodeTimeout = TimeSpan.FromSeconds(5),
            HandoffGrace = TimeSpan.FromSeconds(1),
            Defaults = { Ttl = LongTtl, RetryDelay = TimeSpan.FromSeconds(5) },
        });

    [Fact]
    public async Task Readers_HoldTogether_AndExcludeTheExclusiveLock()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();

        await using var reader1 = await first.AcquireReadAsync(resource);
        await using var reader2 = await second.AcquireReadAsync(resource);

        Assert.Equal(LockMode.Read, reader1.Mode);
        Assert.Equal(LockMode.Read, reader2.Mode);
        Assert.NotEqual((await reader1.GetFencingTokenAsync()), (await reader2.GetFencingTokenAsync()));
        Assert.Null(await second.TryAcquireAsync(resource));
    }

    [Fact]
    public async Task Writer_ExcludesReadersAndOtherWriters_ThenReadersGetIn()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();

        await using (var writer = await first.AcquireAsync(resource))
        {
            Assert.Equal(LockMode.Exclusive, writer.Mode);
            Assert.Null(await second.TryAcquireReadAsync(resource));
            Assert.Null(await second.TryAcquireAsync(resource));
        }

        // Over several nodes a refused try returns at the first refusal, and its SET NX on a node that
        // had not answered may land after the writer's release there: it holds that node until it is
        // given back, a round trip later. A reader gets in then, long before the writer's TTL (20 s).
        await using var reader = await Eventually.ResultWithinAsync(TimeSpan.FromSeconds(5), () => second.TryAcquireReadAsync(resource));
        Assert.NotNull(reader);
    }

    [Fact]
    public async Task LastReaderOut_WakesTheWaitingWriter()
    {
        await using var readers = await ManagerAsync();
        await using var writers = await ManagerAsync();
        var resource = NewResource();
        var reader1 = await readers.AcquireReadAsync(resource);
        var reader2 = await readers.AcquireReadAsync(resource);
        var readerToken = await reader2.GetFencingTokenAsync();

        var writing = writers.AcquireAsync(resource, Patience);
        await WriterWaitsAsync(readers, resource);
        Assert.True(await reader1.ReleaseAsync());
        Assert.False(writing.IsCompleted);
        var released = Stopwatch.StartNew();
        Assert.True(await reader2.ReleaseAsync());

        await using var writer = await writing;
        Assert.True(released.Elapsed < TimeSpan.FromSeconds(4.5), $"woken, not retried (5 s): {released.Elapsed}");
        Assert.True(await writer.GetFencingTokenAsync() > readerToken);
    }

    [Fact]
    public async Task WaitingWriter_QueuesNewReaders_ThenItsReleaseLetsThemAllInAtOnce()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        var reader = await first.AcquireReadAsync(resource);
        var writing = second.AcquireAsync(resource, Patience);
        await WriterWaitsAsync(first, resource);

        // Writers are preferred: readers who come now wait behind the writer.
        var queued = Enumerable.Range(0, 5).Select(i => (i % 2 == 0 ? first : second).AcquireReadAsync(resource, Patience)).ToList();
        // In line, not let in: the writer and each manager's readers (who wait as one).
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await _topology.WaitersAsync(resource) >= 3), "the readers never joined the line");
        Assert.All(queued, q => Assert.False(q.IsCompleted));

        await reader.ReleaseAsync();
        var writer = await writing;
        var writerToken = await writer.GetFencingTokenAsync();
        Assert.All(queued, q => Assert.False(q.IsCompleted));
        var released = Stopwatch.StartNew();
        await writer.ReleaseAsync();

        var handles = await Task.WhenAll(queued);
        Assert.True(released.Elapsed < TimeSpan.FromSeconds(4.5), $"woken, not retried (5 s): {released.Elapsed}");
        Assert.All(handles, h => Assert.Equal(LockState.Held, h.State));
        foreach (var handle in handles)
        {
            Assert.True(await handle.GetFencingTokenAsync() > writerToken);
        }

        foreach (var handle in handles)
        {
            await handle.DisposeAsync();
        }
    }

    [Fact]
    public async Task StreamOfReaders_DoesNotStarveAWriter()
    {
        await using var manager = await ManagerAsync();
        await using var writers = await ManagerAsync();
        var resource = NewResource();
        using var stop = new CancellationTokenSource();
        var reads = 0;
        var streams = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await using var reader = await manager.AcquireReadAsync(resource, Patience);
                Interlocked.Increment(ref reads);
                await Task.Delay(5); // held a moment, so that the readers' holds overlap
            }
        })).ToList();
        // The writer comes into a stream that is flowing, not one still starting.
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(Volatile.Read(ref reads) >= 8)), "the readers never got going");

        var waited = Stopwatch.StartNew();
        await using (var writer = await writers.AcquireAsync(resource, Patience))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(4.5), $"writer waited {waited.Elapsed}");
        }

        await stop.CancelAsync();
        await Task.WhenAll(streams);
    }

    [Fact]
    public async Task ReadersTokens_Increase_AndAWritesTokenExceedsEveryEarlierOne()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var readers = new List<LockHandle>();
        for (var i = 0; i < 3; i++)
        {
            readers.Add(await manager.AcquireReadAsync(resource));
        }

        var tokens = new List<long>();
        foreach (var reader in readers)
        {
            tokens.Add(await reader.GetFencingTokenAsync());
        }

        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
        foreach (var reader in readers)
        {
            await reader.ReleaseAsync();
        }

        await using var writer = await manager.AcquireAsync(resource);
        Assert.True((await writer.GetFencingTokenAsync()) > tokens.Max());
    }

    [Fact]
    public async Task CrashedReader_LeaseExpires_ThenTheWriterGetsIt()
    {
        var shortTtl = new LockManagerOptions { AutoReleaseOnDispose = false, Defaults = { Ttl = TimeSpan.FromSeconds(1), AutoExtend = false } };
        var crashed = await ManagerAsync(shortTtl);
        await using var live = await ManagerAsync();
        var resource = NewResource();
        await using var longReader = await live.AcquireReadAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(1), AutoExtend = false });
        // Kept, so that its finalizer cannot release it: a crashed process releases nothing.
        var crashedReader = await crashed.AcquireReadAsync(resource);
        var crashedUntil = crashedReader.ValidUntil;
        await longReader.ReleaseAsync();

        // Bounded below by the crashed lease itself, not by a time measured after the release,
        // which a slow release would shorten.
        var waited = Stopwatch.StartNew();
        await using var writer = await live.AcquireAsync(resource, Patience);

        Assert.True(TimeProvider.System.GetUtcNow() >= crashedUntil, "the writer came in before the crashed reader's lease ran out");
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"the writer waited {waited.Elapsed}");
        GC.KeepAlive(crashedReader);
        await crashed.DisposeAsync();
    }

    [Fact]
    public async Task Readers_AreExtendedAndReleasedOneByOne()
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var shortReader = await manager.AcquireReadAsync(new LockRequest(resource) { Ttl = TimeSpan.FromSeconds(1), AutoExtend = false });
        await using var longReader = await manager.AcquireReadAsync(resource);

        Assert.True(await longReader.ExtendAsync(TimeSpan.FromSeconds(30)));
        var expired = shortReader.ValidUntil + TimeSpan.FromMilliseconds(200);
        await WaitUntilAsync(() => TimeProvider.System.GetUtcNow() > expired);
        Assert.False(await shortReader.ExtendAsync());
        Assert.False(await shortReader.ReleaseAsync());
        Assert.True(await longReader.ExtendAsync());
        Assert.True(await longReader.ReleaseAsync());
        Assert.False(await longReader.ReleaseAsync());
        await using var writer = await manager.TryAcquireAsync(resource);
        Assert.NotNull(writer);
    }

    [Fact]
    public async Task CancelledReader_LeavesNothingBehind()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        var writer = await first.AcquireAsync(resource);
        using var cancel = new CancellationTokenSource();
        var reading = second.AcquireReadAsync(resource, Timeout.InfiniteTimeSpan, cancel.Token);
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => await _topology.WaitersAsync(resource) >= 1), "the reader never joined the line");

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        await writer.ReleaseAsync();

        // Neither a reservation nor a place in line is left for the reader that gave up.
        await using var next = await first.TryAcquireAsync(resource);
        Assert.NotNull(next);
    }

    /// <summary>
    /// Regression (a review, 2026-12-07): one manager serves a whole application, so a read lock it
    /// holds is usually another request's. A writer that waited forever on the same manager was
    /// refused with InvalidOperationException ("a read lock cannot be upgraded"), for a lock the
    /// reader released a moment later; the same call with a set of locks too.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WaitingForeverToWrite_WhileAnotherTaskOfThisManagerReads_GetsTheLockWhenItReleases(bool asSet)
    {
        await using var manager = await ManagerAsync();
        var resource = NewResource();
        var reader = await manager.AcquireReadAsync(resource);

        var writing = Task.Run(() => asSet
            ? manager.AcquireAllAsync([resource, resource + "-audit"], Timeout.InfiniteTimeSpan)
            : manager.AcquireAsync(resource, Timeout.InfiniteTimeSpan));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => writing.IsCompleted || await _topology.WaitersAsync(resource) >= 1), "the writer never joined the line");
        Assert.False(writing.IsFaulted, writing.Exception?.InnerException?.Message);
        Assert.False(writing.IsCompleted);
        await reader.ReleaseAsync();

        await using var writer = await writing.WaitAsync(Eventually.Patience);
        Assert.Equal(LockMode.Exclusive, writer.Mode);
    }

    [Fact]
    public async Task DisposingTheManager_EndsItsWaitsAtOnce()
    {
        await using var holder = await ManagerAsync();
        var waiter = await ManagerAsync();
        var resource = NewResource();
        await using var reader = await holder.AcquireReadAsync(resource);
        var writing = waiter.AcquireAsync(resource, Timeout.InfiniteTimeSpan);
        var exclusive = waiter.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        await WriterWaitsAsync(holder, resource);

        var disposed = Stopwatch.StartNew();
        await waiter.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => writing.WaitAsync(Patience));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => exclusive.WaitAsync(Patience));
        Assert.True(disposed.Elapsed < TimeSpan.FromSeconds(5), $"the waits ended {disposed.Elapsed} after the dispose");
    }

    [Fact]
    public async Task BadInput_IsRejectedByTheCall()
    {
        await using var manager = await ManagerAsync();

        Assert.Throws<ArgumentException>("resource", () => { _ = manager.AcquireReadAsync(" "); });
        Assert.Throws<ArgumentNullException>("request", () => { _ = manager.TryAcquireAsync((LockRequest)null!); });
        Assert.Throws<ArgumentOutOfRangeException>("timeout", () => { _ = manager.AcquireReadAsync("r", TimeSpan.FromSeconds(-2)); });
    }

    /// <summary>Waits until a writer waits for <paramref name="resource"/>: a newcomer reader is then refused.</summary>
    private static async Task WriterWaitsAsync(ILockManager manager, string resource)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var probe = await manager.TryAcquireReadAsync(resource);
            if (probe is null)
            {
                return;
            }

            await probe.ReleaseAsync();
            Assert.True(deadline.Elapsed < Patience, "the writer never queued");
            await Task.Delay(10);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < Patience, "condition not met in time");
            await Task.Delay(20);
        }
    }

    /// <summary>A dropped reader's handle gives its lease up when collected: a writer gets the lock long before its TTL.</summary>
    [Fact]
    public async Task DroppedReader_GivesItsLeaseUpWhenCollected_AWriterGetsTheLockLongBeforeItsTtl()
    {
        var ttl = TimeSpan.FromMinutes(4);
        await using var readers = await ManagerAsync(new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(5), Defaults = { Ttl = ttl } });
        await using var writers = await ManagerAsync();
        var resource = NewResource();
        await DroppedHandles.AcquireAndDropAsync(() => readers.AcquireReadAsync(resource));

        await using var writer = await DroppedHandles.UntilGivenUpAsync(writers.AcquireAsync(resource, ttl / 2));

        Assert.Equal(LockState.Held, writer.State);
    }
}
