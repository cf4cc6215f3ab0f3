using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using StackExchange.Redis;

namespace DistLock.FaultWorker;

/// <summary>
/// <c>--kind multi</c>: takes sets of locks together (<see cref="MultiResourceExtensions.AcquireAllAsync(ILockManager, IEnumerable{string}, TimeSpan?, CancellationToken)"/>),
/// each of 1 to <c>--largest-set</c> names drawn from <c>--names</c> (<c>{resource}:0</c>,
/// <c>{resource}:1</c>, ...), so that the workers' sets overlap at random. While it holds a set it
/// works in steps of 10 ms for a hold drawn from half of <c>--hold-ms</c> to all of it, each step
/// checked against the handle's state and then written to every member's fenced key
/// (<c>{resource}:{n}:data</c>) with the set's one token. SIGTERM is a graceful shutdown: the holder
/// releases, and the worker exits with 0. <c>--mode ignore-lost</c> is the broken client that works
/// on after its set was lost (without automatic extension, so it is lost), for the checker to catch.
/// </summary>
/// <remarks>
/// The history uses the lock worker's events, with the members written by number: invoke (the set
/// asked for), ok (the token, and the members the handle lists), use (a step that saw the set held),
/// write-ok, write-rejected and write-unknown (one member's write: <c>member@invoked-at</c>), fail
/// (the wait timed out; the same set is asked for again, as a caller that needs it would), lost,
/// release-invoke and release. A holder that finds its set lost writes once more to every member
/// with its token, as one resumed from a pause would before it looked: the fenced store must refuse
/// it on each member a later holder has written.
/// </remarks>
internal static class MultiResourceWorker
{
    public static async Task RunAsync(ILockManager locks, WorkerSettings settings, HistoryWriter history, FencedRedisStore fenced, long until)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(0, Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until).Ticks)));
        using var shutdown = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true; // not the runtime's exit: the holder releases first
            stop.Cancel();
        });

        int[]? wanted = null;
        while (!stop.IsCancellationRequested)
        {
            wanted ??= Draw(settings);
            history.Write("invoke", detail: string.Join(',', wanted));
            LockHandle handle;
            try
            {
                handle = await locks.AcquireAllAsync(wanted.Select(n => Name(settings, n)), settings.Wait, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break; // the run is over, or SIGTERM
            }
            catch (LockTimeoutException)
            {
                history.Write("fail");
                continue;
            }
            catch (LockBackendException ex)
            {
                history.Write("unknown", detail: ex.GetType().Name);
                await Task.Delay(50, CancellationToken.None); // an outage: ask again shortly, not in a tight loop
                continue;
            }

            wanted = null;
            await HoldAsync(handle, settings, history, fenced, stop.Token);
        }
    }

    private static async Task HoldAsync(LockHandle handle, WorkerSettings settings, HistoryWriter history, FencedRedisStore fenced, CancellationToken stop)
    {
        await using var _ = handle;
        long token;
        try
        {
            // A set lost (or Redis paused) before its token could be had counts as no acquisition.
            token = await handle.GetFencingTokenAsync(CancellationToken.None);
        }
        catch (DistLockException ex)
        {
            history.Write("unknown", detail: ex.GetType().Name);
            return;
        }

        var members = handle.Resources.Select(r => r[(settings.Resource.Length + 1)..]).ToList();
        history.Write("ok", token, string.Join(',', members));
        handle.LostToken.Register(() => history.Write("lost", token));
        var hold = settings.Hold * (0.5 + (Random.Shared.NextDouble() / 2));
        var leaveAt = Stopwatch.GetTimestamp() + (long)(hold.TotalSeconds * Stopwatch.Frequency);
        var lost = false;
        var ignoresLoss = settings.Mode == "ignore-lost";
        while (Stopwatch.GetTimestamp() < leaveAt && !stop.IsCancellationRequested)
        {
            // The protected work: check the set, then write to each member with the token.
            if (!ignoresLoss && handle.State != LockState.Held)
            {
                lost = true;
                break;
            }

            history.Write("use", token);
            foreach (var member in members)
            {
                await WriteAsync(member);
            }

            await Task.Delay(10, CancellationToken.None); // a step of the protected work
        }

        if (lost || handle.State != LockState.Held)
        {
            foreach (var member in members)
            {
                await WriteAsync(member);
            }
        }

        history.Write("release-invoke", token);
        try
        {
            history.Write("release", token, (await handle.ReleaseAsync(CancellationToken.None)).ToString());
        }
        catch (LockBackendException ex)
        {
            history.Write("release-error", token, ex.GetType().Name); // Redis did not answer: the leases run out on their own
        }

        async Task WriteAsync(string member)
        {
            var invokedAt = Stopwatch.GetTimestamp();
            var detail = string.Create(CultureInfo.InvariantCulture, $"{member}@{invokedAt}");
            try
            {
                var accepted = await fenced.TryWriteAsync($"{settings.Resource}:{member}:data", settings.Id, token);
                history.Write(accepted ? "write-ok" : "write-rejected", token, detail);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // An answer that timed out while this process was stopped: no accepted write the checker could hold against anyone.
                history.Write("write-unknown", token, detail);
            }
        }
    }

    /// <summary>A set of 1 to <see cref="WorkerSettings.LargestSet"/> distinct names, in a random order (the library sorts them).</summary>
    private static int[] Draw(WorkerSettings settings) =>
        [.. Enumerable.Range(0, settings.Names).OrderBy(_ => Random.Shared.Next()).Take(Random.Shared.Next(1, settings.LargestSet + 1))];

    private static string Name(WorkerSettings settings, int member) => string.Create(CultureInfo.InvariantCulture, $"{settings.Resource}:{member}");
}
