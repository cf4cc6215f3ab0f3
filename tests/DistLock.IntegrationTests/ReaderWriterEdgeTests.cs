using System.Diagnostics;
using DistLock.IntegrationTests.Fixtures;
using DistLock.Transport;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// Edge cases of reader-writer locks found by an adversarial review, on one real redis-server.
/// </summary>
[Collection(SingleNodeCollection.Name)]
public sealed class ReaderWriterEdgeTests(SingleNodeFixture nodes)
{
    private static readonly TimeSpan LongTtl = TimeSpan.FromSeconds(20);

    private static string NewResource() => "rw-edge-" + Guid.NewGuid().ToString("N");

    // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
    // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out.
    private Task<RedisLockManager> ManagerAsync(RedisLockManagerOptions? options = null) =>
        nodes.ConnectAsync(options ?? new RedisLockManagerOptions { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { Ttl = LongTtl, RetryDelay = TimeSpan.FromSeconds(5) } });

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
        var request = new LockRequest(resource) { HolderId = "worker-7" };

        var first = await readers.AcquireReadAsync(request);
        var second = await readers.TryAcquireReadAsync(request);
        Assert.True(await first.ReleaseAsync());

        var writer = await writers.TryAcquireAsync(resource);
        var bothHeld = second is { State: LockState.Held } && writer is not null;
        Assert.False(bothHeld, "a writer holds the lock while a read handle is still Held");
        if (writer is not null)
        {
            await writer.ReleaseAsync();
        }
    }
    /// <summary>
    /// A woken reader that never comes (a paused process keeps its subscription). When the last
    /// reader that did come releases while the lock is still the stalled one's (its grace), a writer
    /// that queued while the readers held must not sleep until the TTL it learned from its last
    /// refusal: a stalled process must cost the writer about the grace, not a TTL.
    /// </summary>
    [Fact]
    public async Task StalledWokenReader_LastLiveReaderOut_MustStillWakeTheWriterWithinAboutTheGrace()
    {
        // A grace of 200 ms. TTL 15 s, so a writer that sleeps to it is told apart, even on a loaded machine.
        var options = new RedisLockManagerOptions { HandoffGrace = TimeSpan.FromMilliseconds(200), Defaults = { Ttl = TimeSpan.FromSeconds(15) } };
        await using var holder = await nodes.ConnectAsync(options);
        await using var readers = await nodes.ConnectAsync(options);
        await using var writers = await nodes.ConnectAsync(options);
        var resource = NewResource();
        var key = new LockKeyLayout(options.KeyPrefix).LockKey(resource);

        var held = await holder.AcquireAsync(resource);
        await using var stalled = await StalledWaiterAsync(key, "read:stalled", ticket: 0);
        var reading = readers.AcquireReadAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 2)), "the reader never joined the line");

        // The release hands the turn to the stalled reader first in line; the live one comes after
        // the grace (or with the stalled one's group), and the line is empty.
        await held.ReleaseAsync();
        var reader = await reading;
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 0)), "the live reader never left the line");

        // A writer comes while the live reader reads: refused, it joins the line.
        var writing = writers.AcquireAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 1)), "the writer never joined the line");

        var released = Stopwatch.StartNew();
        Assert.True(await reader.ReleaseAsync());
        await using var writer = await writing;
        Assert.True(released.Elapsed < TimeSpan.FromSeconds(7), $"the writer took the lock {released.Elapsed} after the last live reader left");
    }

    /// <summary>
    /// A writer that died while waiting (killed: its entry stays in the line, nobody listens on its
    /// channel) blocks every new reader for as long as the current readers hold: acquire-read.lua
    /// refuses a reader with any writer ahead, and only wakes the line (dropping the dead) when the
    /// key is free. Each refused reader joins the line, which refreshes its expiry, so with readers
    /// that hold on (auto-extended) the dead writer blocks new readers indefinitely. A live writer
    /// may hold readers back (writer preference); a dead one must not.
    /// </summary>
    [Fact]
    public async Task DeadWriterInLine_WhileReadersHold_MustNotBlockNewReaders()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        var key = new LockKeyLayout(new LockManagerOptions().KeyPrefix).LockKey(resource);

        await using var reading = await first.AcquireReadAsync(resource);

        // A writer that queued behind the reader, then was killed: its place stays, its channel is silent.
        await nodes.Inspectors[0].GetDatabase().SortedSetAddAsync(LockKeyLayout.WaitersKey(key), "dead-writer", 1);

        // Under the 5 s retry delay: the reader gets in on its first look, not on a retry.
        var joined = await second.TryAcquireReadAsync(resource, TimeSpan.FromSeconds(4.5));
        Assert.NotNull(joined);
        await joined!.ReleaseAsync();
    }

    /// <summary>
    /// A reader queued behind a writer that was alive then, and died while readers held the lock:
    /// the next reader to come probes the writer, drops it and gets in, and wakes the line, so the
    /// reader that queued behind the dead writer comes in too instead of sleeping until the TTL.
    /// </summary>
    [Fact]
    public async Task WriterDiesInLine_ReaderQueuedBehindIt_ComesInWithTheNextReader()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        await using var third = await ManagerAsync();
        var resource = NewResource();
        var key = new LockKeyLayout(new LockManagerOptions().KeyPrefix).LockKey(resource);
        await using var reading = await first.AcquireReadAsync(resource);
        var writer = await StalledWaiterAsync(key, "writer", 1);
        var queued = second.AcquireReadAsync(resource, LongTtl);
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 2)), "the reader never joined the line");

        await writer.DisposeAsync();
        await using var next = await third.AcquireReadAsync(resource, TimeSpan.FromSeconds(4.5));

        await using var behind = await queued.WaitAsync(TimeSpan.FromSeconds(4.5)); // the TTL is 20 s, the retry delay 5 s
        Assert.Equal(LockState.Held, reading.State);
    }

    /// <summary>
    /// Readers queued behind a waiting writer (writer preference) while others read. The writer
    /// gives up (cancelled, or timed out): leaving the line must wake the readers behind it (they were not, once)
    /// while the key exists, and the key is the readers' marker. The readers behind it, now first
    /// in line and free to join the readers, sleep until the marker's TTL instead of being let in.
    /// </summary>
    [Fact]
    public async Task WaitingWriterGivesUp_ReadersQueuedBehindIt_MustJoinTheReadersWithoutWaitingOutTheTtl()
    {
        var options = new RedisLockManagerOptions { HandoffGrace = TimeSpan.FromMilliseconds(200), Defaults = { Ttl = TimeSpan.FromSeconds(15) } };
        await using var first = await nodes.ConnectAsync(options);
        await using var writers = await nodes.ConnectAsync(options);
        await using var second = await nodes.ConnectAsync(options);
        var resource = NewResource();
        var key = new LockKeyLayout(options.KeyPrefix).LockKey(resource);

        await using var reading = await first.AcquireReadAsync(resource);
        using var giveUp = new CancellationTokenSource();
        var writing = writers.AcquireAsync(resource, TimeSpan.FromSeconds(30), giveUp.Token);
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 1)), "the writer never joined the line");
        var joining = second.AcquireReadAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 2)), "the reader never joined the line");

        var gaveUp = Stopwatch.StartNew();
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);
        await using var joined = await joining;
        Assert.True(gaveUp.Elapsed < TimeSpan.FromSeconds(7), $"the reader got in {gaveUp.Elapsed} after the writer ahead of it gave up");
    }

    /// <summary>
    /// ForceReleaseAsync promises that the holder's next extension is refused. With readers waiting
    /// at the head of the line (here behind a writer that died after they queued), force-release.lua deletes the marker
    /// and wakes them, and reserve_readers puts the marker back without clearing the readers' set:
    /// the old reader's lease is still in it, so its extension succeeds and it is never Lost.
    /// </summary>
    [Fact]
    public async Task ForceRelease_WithReadersWaiting_MustStillLoseTheOldReaders()
    {
        await using var first = await ManagerAsync();
        await using var second = await ManagerAsync();
        var resource = NewResource();
        var key = new LockKeyLayout(new LockManagerOptions().KeyPrefix).LockKey(resource);

        var old = await first.AcquireReadAsync(resource);
        // A writer in line, alive while the reader queues behind it (readers probe the writers
        // ahead of them, and drop one nobody listens for), and dead by the force release.
        var writer = await StalledWaiterAsync(key, "dead-writer", 1);
        var joining = second.AcquireReadAsync(resource, TimeSpan.FromSeconds(8));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 2)), "the reader never joined the line");
        await writer.DisposeAsync();

        Assert.True(await second.ForceReleaseAsync(resource));
        await using var joined = await joining;

        var extended = await old.ExtendAsync();
        Assert.False(extended, "the force-released reader's extension was granted");
        Assert.Equal(LockState.Lost, old.State);
    }

    /// <summary>
    /// A writer woken for its turn that never claims it (paused: it keeps its subscription) is moved
    /// to the end of the line, marked. The readers standing by get in after the grace, as designed;
    /// but every reader that comes while they read counts that marked writer as waiting ahead of it
    /// (acquire-read.lua: a reader not in line counts every writer in it), queues behind it, and
    /// waits until the readers inside leave: a stalled writer that already missed its turn costs
    /// new readers the readers' whole hold, not the grace.
    /// </summary>
    [Fact]
    public async Task StalledWriterThatMissedItsTurn_MustNotHoldBackNewReadersWhileReadersHold()
    {
        var options = new RedisLockManagerOptions { HandoffGrace = TimeSpan.FromMilliseconds(200), Defaults = { Ttl = TimeSpan.FromSeconds(15) } };
        await using var holder = await nodes.ConnectAsync(options);
        await using var first = await nodes.ConnectAsync(options);
        await using var second = await nodes.ConnectAsync(options);
        var resource = NewResource();
        var key = new LockKeyLayout(options.KeyPrefix).LockKey(resource);

        var held = await holder.AcquireAsync(resource);
        await using var stalled = await StalledWaiterAsync(key, "stalled-writer", ticket: 0);
        var reading = first.AcquireReadAsync(resource, TimeSpan.FromSeconds(30));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 2)), "the reader never joined the line");

        // The stalled writer is woken and does not come; the reader behind it gets in after the grace.
        await held.ReleaseAsync();
        await using var reader = await reading;

        var joined = await second.TryAcquireReadAsync(resource, TimeSpan.FromSeconds(7));
        Assert.NotNull(joined);
        await joined!.ReleaseAsync();
    }

    /// <summary>
    /// Regression (a review, 2026-12-07): the readers of one process wait in one queue; when one of
    /// them got in on its own (here, after the writer's key ran out without a release), its take
    /// took the queue out of the line, and the others slept on to the writer's TTL.
    /// </summary>
    [Fact]
    public async Task ReadersAsleepInOneQueue_WhenOneOfThemGetsIn_FollowItAtOnce()
    {
        await using var writers = await ManagerAsync();
        await using var readers = await ManagerAsync();
        var resource = NewResource();
        var key = new LockKeyLayout(new LockManagerOptions().KeyPrefix).LockKey(resource);
        await using var writer = await writers.AcquireAsync(new LockRequest(resource) { AutoExtend = false });
        var first = readers.AcquireReadAsync(resource, TimeSpan.FromMinutes(1));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => LineLengthIsAsync(key, 1)), "the first reader never joined the line");
        var second = readers.AcquireReadAsync(resource, TimeSpan.FromMinutes(1));
        await Task.Delay(300); // its attempt in the queue is refused: both sleep to the writer's TTL (20 s)

        // The writer's key runs out without a release: nothing wakes the readers.
        await nodes.Inspectors[0].GetDatabase().KeyExpireAsync(key, TimeSpan.FromMilliseconds(1));
        var stopwatch = Stopwatch.StartNew();
        await using var third = await readers.AcquireReadAsync(resource, TimeSpan.FromSeconds(10));

        await using var one = await first.WaitAsync(TimeSpan.FromSeconds(10));
        await using var two = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    private async Task<bool> LineLengthIsAsync(string key, long length) =>
        await nodes.Inspectors[0].GetDatabase().SortedSetLengthAsync(LockKeyLayout.WaitersKey(key)) == length;

    /// <summary>Listens on a waiter's wake channel like a paused process: subscribed, first in line, never acting.</summary>
    private async Task<IAsyncDisposable> StalledWaiterAsync(string key, string id, double ticket)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(nodes.Endpoints[0]);
        await connection.GetSubscriber().SubscribeAsync(RedisChannel.Literal(LockKeyLayout.WakeChannel(key, id)), (_, _) => { });
        await connection.GetDatabase().SortedSetAddAsync(LockKeyLayout.WaitersKey(key), id, ticket);
        return connection;
    }
}
