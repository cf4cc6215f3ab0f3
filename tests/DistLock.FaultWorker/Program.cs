using System.Diagnostics;
using DistLock;
using DistLock.FaultWorker;
using StackExchange.Redis;

// A fault-suite worker: takes the lock again and again, works inside it (each step checked
// against the lock's state, then written to a fenced resource), and records every event in its
// history file for the checker. The modes other than "correct" are deliberately broken clients
// that the checker must catch. --kind semaphore takes one of --permits permits instead, and
// --kind rw a read lock (--read-share of the time) or the exclusive lock, which is the write lock;
// only exclusive holds write to the fenced resource, since shared holders are not ordered by their tokens.
// --release-at-line N holds the lock until N wait in its line (see LineTooShortAsync).
// --kind election campaigns in the election named --resource instead (ElectionWorker), and
// --kind multi takes random sets of --names locks together (MultiResourceWorker).
var settings = WorkerSettings.Parse(args);
using var history = new HistoryWriter(settings.History, settings.Id);
var ignoresLoss = settings.Mode == "ignore-lost";
var options = new RedisLockManagerOptions
{
    NodeTimeout = TimeSpan.FromMilliseconds(300),

    // The grace the fault tests measure handoffs against (20 ms: StalledLineFaultTests, FaultSuiteTests).
    HandoffGrace = TimeSpan.FromMilliseconds(20),
    Defaults =
    {
        Ttl = settings.Ttl,

        // Retries where no wake can come (a paused or killed node, a split Redlock vote) at the pace the runs were tuned with.
        RetryDelay = TimeSpan.FromMilliseconds(20),
        AutoExtend = settings.Mode is "correct" or "cancel-release",
    },
};
await using var fencedConnection = await ConnectionMultiplexer.ConnectAsync(settings.Fenced);
await using var blunt = settings.Mode == "plain-del" ? await ConnectionMultiplexer.ConnectAsync(settings.Redis[0]) : null;
var fenced = new FencedRedisStore(fencedConnection.GetDatabase());
var fencedKey = (RedisKey)(settings.Resource + ":data");
RedisLockManager? locks = null;
while (locks is null)
{
    try
    {
        locks = await RedisLockManager.ConnectAsync(settings.Redis, options);
    }
    catch (LockBackendException)
    {
        await Task.Delay(50); // the test may have paused or killed Redis: try again shortly, not in a tight loop
    }
}

await using var _ = locks;
var until = Stopwatch.GetTimestamp() + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency);
history.Write("start");
if (settings.Kind == "election")
{
    await ElectionWorker.RunAsync(locks, settings, history, WriteFencedAsync, until);
    history.Write("exit");
    return 0;
}

if (settings.Kind == "multi")
{
    await MultiResourceWorker.RunAsync(locks, settings, history, fenced, until);
    history.Write("exit");
    return 0;
}

while (Stopwatch.GetTimestamp() < until)
{
    history.Write("invoke");
    LockHandle handle;
    try
    {
        handle = await AcquireAsync();
    }
    catch (LockTimeoutException)
    {
        history.Write("fail");
        continue;
    }
    catch (LockBackendException ex)
    {
        history.Write("unknown", detail: ex.GetType().Name);
        await Task.Delay(50); // an outage: ask again shortly, not in a tight loop
        continue;
    }

    long token;
    try
    {
        // Tokens are issued on demand; one the lock was lost (or Redis paused) before it could be had counts as no acquisition.
        token = await handle.GetFencingTokenAsync();
    }
    catch (DistLockException ex)
    {
        history.Write("unknown", detail: ex.GetType().Name);
        await handle.DisposeAsync();
        continue;
    }

    var exclusive = handle.Mode is LockMode.Exclusive;
    history.Write("ok", token, handle.Mode.ToString());
    handle.LostToken.Register(() => history.Write("lost", token));
    var hold = settings.Hold * (0.5 + (Random.Shared.NextDouble() / 2));
    var leaveAt = Stopwatch.GetTimestamp() + (long)(hold.TotalSeconds * Stopwatch.Frequency);
    var lost = false;
    do
    {
        // The protected work: check the lock, then write with the token.
        if (!ignoresLoss && handle.State != LockState.Held)
        {
            lost = true;
            break;
        }

        history.Write("use", token);
        if (exclusive)
        {
            await WriteFencedAsync(token);
        }

        await Task.Delay(10); // a step of the protected work
    }
    while (Stopwatch.GetTimestamp() < leaveAt || await LineTooShortAsync());

    if (lost || (!ignoresLoss && handle.State != LockState.Held))
    {
        // A holder that lost its lock finds everything refused: extension, release, and (once a
        // later holder has written) the fenced write.
        history.Write("probe-extend", token, (await TryAsync(() => handle.ExtendAsync())).ToString());
        if (exclusive)
        {
            await WriteFencedAsync(token);
        }
    }

    history.Write("release-invoke", token);
    if (settings.Mode == "cancel-release")
    {
        // A release whose answer nobody waits for: its outcome is unknown, so the handle must not
        // read Held after it. A client that checks State before each step would go on working.
        using var giveUp = new CancellationTokenSource();
        var releasing = handle.ReleaseAsync(giveUp.Token);
        giveUp.Cancel();
        try
        {
            history.Write("release", token, (await releasing).ToString());
        }
        catch (OperationCanceledException)
        {
            history.Write("release-unclear", token, handle.State.ToString());
            var stopAt = Stopwatch.GetTimestamp() + (long)(0.2 * Stopwatch.Frequency);
            while (handle.State == LockState.Held && Stopwatch.GetTimestamp() < stopAt)
            {
                history.Write("use", token);
                await Task.Delay(10); // a step of work, as a client that trusts State would do
            }
        }

        continue;
    }

    try
    {
        // The classic bug in plain-del mode: DEL without checking the value deletes whoever holds the lock now.
        var released = blunt is not null
            ? await blunt.GetDatabase().KeyDeleteAsync(handle.Key)
            : await handle.ReleaseAsync();
        history.Write("release", token, released.ToString());
    }
    catch (LockBackendException ex)
    {
        history.Write("release-error", token, ex.GetType().Name);
        await handle.DisposeAsync();
    }

    if (settings.Rest > TimeSpan.Zero)
    {
        history.Write("rest");
        await Task.Delay(settings.Rest);
    }
}

history.Write("exit");
return 0;

Task<LockHandle> AcquireAsync() => settings.Kind switch
{
    "semaphore" => locks.AcquireSemaphoreAsync(settings.Resource, settings.Permits, settings.Wait),
    "rw" when Random.Shared.NextDouble() < settings.ReadShare => locks.AcquireReadAsync(settings.Resource, settings.Wait),
    _ => locks.AcquireAsync(settings.Resource, settings.Wait),
};

// With --release-at-line, a test that measures handoffs gets one at every release: the holder works
// on until enough wait in line, instead of hoping the random holds and rests leave someone waiting.
// At the end of the run nobody may come, so the holder lets go then.
async Task<bool> LineTooShortAsync()
{
    if (settings.ReleaseAtLine == 0 || Stopwatch.GetTimestamp() >= until)
    {
        return false;
    }

    try
    {
        var waiters = settings.Kind == "semaphore"
            ? (await locks.InspectSemaphoreAsync(settings.Resource)).Waiters
            : (await locks.InspectAsync(settings.Resource)).Waiters;
        return waiters < settings.ReleaseAtLine;
    }
    catch (LockBackendException)
    {
        return false; // the test faults Redis: release as without the option
    }
}

async Task WriteFencedAsync(long token)
{
    var invokedAt = Stopwatch.GetTimestamp();
    var accepted = await fenced.TryWriteAsync(fencedKey, settings.Id, token);
    history.Write(accepted ? "write-ok" : "write-rejected", token, invokedAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

static async Task<bool> TryAsync(Func<Task<bool>> action)
{
    try
    {
        return await action();
    }
    catch (LockBackendException)
    {
        return false;
    }
}
