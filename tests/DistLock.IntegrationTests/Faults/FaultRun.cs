using System.Diagnostics;
using System.Globalization;
using DistLock.RedisRig;

namespace DistLock.IntegrationTests.Faults;

/// <summary>
/// One run of the fault suite: worker processes contending for one resource on the given lock
/// servers, writing to a fenced resource on a separate server that is never faulted, each with
/// its own history file. Stops its workers (by process id) and deletes its files when disposed.
/// </summary>
public sealed class FaultRun : IAsyncDisposable
{
    private readonly List<Process> _workers = [];
    private readonly List<System.Text.StringBuilder> _errors = [];
    private readonly HashSet<int> _killed = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("distlock-faults-").FullName;
    private readonly RedisServer _fenced;
    private readonly List<GrowingHistory> _histories = [];
    private Func<int, List<string>> _arguments = _ => [];

    private FaultRun(RedisServer fenced, string resource)
    {
        _fenced = fenced;
        Resource = resource;
    }

    public string Resource { get; }

    public RedisServer Fenced => _fenced;

    /// <summary>Seconds each worker runs: short in the default run, long with DISTLOCK_SOAK=1.</summary>
    public static double Seconds(double quick) =>
        Environment.GetEnvironmentVariable("DISTLOCK_SOAK") == "1" ? quick * 20 : quick;

    /// <summary>Starts <paramref name="workers"/> worker processes (see DistLock.FaultWorker's WorkerSettings for the rest).</summary>
    /// <param name="lockServers">The lock's servers.</param>
    /// <param name="workers">How many worker processes.</param>
    /// <param name="seconds">How long each runs.</param>
    /// <param name="ttlMs">The locks' TTL.</param>
    /// <param name="holdMs">The longest hold.</param>
    /// <param name="mode">correct, or a broken client's mode.</param>
    /// <param name="waitMs">How long one acquire waits.</param>
    /// <param name="restMs">How long a worker rests after a release.</param>
    /// <param name="kind">What the workers take, as worker arguments (e.g. <c>--kind semaphore --permits 3</c>); none: the lock.</param>
    /// <param name="releaseAtLine">A holder of the lock releases only once this many wait in its line (or its run is over); 0: at the end of its hold.</param>
    public static async Task<FaultRun> StartAsync(
        IEnumerable<RedisServer> lockServers, int workers, double seconds, int ttlMs, int holdMs, string mode = "correct", int waitMs = 1000, int restMs = 0,
        IEnumerable<string>? kind = null, int releaseAtLine = 0)
    {
        var run = new FaultRun(await RedisServer.StartAsync(), "faults-" + Guid.NewGuid().ToString("N")[..8]);
        var servers = lockServers.ToList();
        var extra = kind?.ToList() ?? [];
        run._arguments = id =>
        {
            var args = new List<string>
            {
                Path.Combine(AppContext.BaseDirectory, "DistLock.FaultWorker.dll"),
                "--fenced", run._fenced.Endpoint,
                "--resource", run.Resource,
                "--history", run.HistoryFile(id),
                "--id", id.ToString(CultureInfo.InvariantCulture),
                "--seconds", seconds.ToString(CultureInfo.InvariantCulture),
                "--ttl-ms", ttlMs.ToString(CultureInfo.InvariantCulture),
                "--hold-ms", holdMs.ToString(CultureInfo.InvariantCulture),
                "--mode", mode,
                "--wait-ms", waitMs.ToString(CultureInfo.InvariantCulture),
                "--rest-ms", restMs.ToString(CultureInfo.InvariantCulture),
                "--release-at-line", releaseAtLine.ToString(CultureInfo.InvariantCulture),
            };
            args.AddRange(extra);
            foreach (var server in servers)
            {
                args.Add("--redis");
                args.Add($"{server.Endpoint},abortConnect=false,connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000");
            }

            return args;
        };
        for (var id = 0; id < workers; id++)
        {
            run.AddWorker();
        }

        return run;
    }

    /// <summary>How many workers were started, replacements included.</summary>
    public int Count => _workers.Count;

    /// <summary>Starts one more worker, as the others were started (it runs its full time from now); returns its id.</summary>
    public int AddWorker()
    {
        var id = _workers.Count;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true };
        _arguments(id).ForEach(start.ArgumentList.Add);
        var worker = Process.Start(start) ?? throw new InvalidOperationException("could not start a worker");
        var errors = new System.Text.StringBuilder();
        worker.ErrorDataReceived += (_, line) =>
        {
            lock (errors)
            {
                errors.AppendLine(line.Data);
            }
        };
        worker.BeginErrorReadLine();
        _workers.Add(worker);
        _errors.Add(errors);
        return id;
    }

    public Process Worker(int id) => _workers[id];

    /// <summary>Every worker's history so far, merged in time order.</summary>
    public List<HistoryEvent> History()
    {
        while (_histories.Count < _workers.Count)
        {
            _histories.Add(new GrowingHistory(HistoryFile(_histories.Count)));
        }

        return [.. _histories.SelectMany(h => h.Read()).OrderBy(e => e.Time)];
    }

    /// <summary>Waits until the merged history satisfies <paramref name="condition"/>.</summary>
    public async Task<List<HistoryEvent>> WaitForAsync(Func<List<HistoryEvent>, bool> condition, TimeSpan timeout)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var history = History();
            if (condition(history))
            {
                return history;
            }

            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException($"the workers' history never got there ({history.Count} events)");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The worker that holds the lock now (acquired, not yet releasing), waiting until there is one.</summary>
    public async Task<(int Worker, long Token)> WaitForHolderAsync(TimeSpan timeout)
    {
        (int, long) holder = default;
        await WaitForAsync(history => CurrentHolder(history) is { } h && (holder = h) == h, timeout);
        return holder;
    }

    /// <summary>
    /// Waits until one live worker alone waits while another holds the lock, and stops that waiter
    /// (SIGSTOP). Returns it once the history read after the stop still shows the holder holding and
    /// it waiting: the holder has not sent its release, so the stopped worker waits, not holds.
    /// </summary>
    public async Task<int> StopLoneWaiterAsync(TimeSpan timeout)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var seen = await WaitForContentionAsync(1, 1, timeout);
            var waiter = seen.Waiters[0];
            await StopAsync(waiter);
            if (Contention(History()) is { } now && now.Holder == seen.Holder && now.Token == seen.Token && now.Waiters.SequenceEqual(seen.Waiters))
            {
                return waiter;
            }

            Signal(waiter, Signals.SigCont);
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException($"no lone waiter stayed waiting while stopped within {timeout}");
            }
        }
    }

    /// <summary>
    /// Waits until at least <paramref name="least"/> live workers wait while another holds the lock,
    /// and stops that holder (SIGSTOP) before it can release: what the test does next meets the
    /// line it saw. Returns the holder, which the caller continues (SIGCONT), and the waiters.
    /// </summary>
    public async Task<(int Holder, List<int> Waiters)> StopHolderWithWaitersAsync(int least, TimeSpan timeout)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var seen = await WaitForContentionAsync(least, int.MaxValue, timeout);
            await StopAsync(seen.Holder);

            // A stopped worker writes nothing more, and writes release-invoke before it sends a
            // release: if the history still shows it holding, it holds until continued.
            if (Contention(History()) is { } now && now.Holder == seen.Holder && now.Token == seen.Token && seen.Waiters.All(now.Waiters.Contains))
            {
                return (seen.Holder, seen.Waiters);
            }

            Signal(seen.Holder, Signals.SigCont);
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException("the holder released each time before it could be stopped");
            }
        }
    }

    /// <summary>
    /// For each release in [<paramref name="from"/>, <paramref name="to"/>) while another worker
    /// (not one of <paramref name="absent"/>) was waiting, the time until anyone next acquired:
    /// what a handoff cost while the line was disturbed.
    /// </summary>
    public static List<TimeSpan> Handoffs(List<HistoryEvent> history, long from, long to, params int[] absent)
    {
        var gone = absent.Select(id => id.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        return history.Where(e => e is { Kind: "release", Detail: "True" } && e.Time >= from && e.Time < to)
            .Where(release => history.Where(e => e.Time < release.Time && e.Worker != release.Worker && !gone.Contains(e.Worker))
                .GroupBy(e => e.Worker).Any(g => g.Last().Kind == "invoke"))
            .Select(release => history.FirstOrDefault(e => e.Kind == "ok" && e.Time > release.Time) is { } next
                ? Stopwatch.GetElapsedTime(release.Time, next.Time)
                : TimeSpan.MaxValue)
            .ToList();
    }

    /// <summary>Waits for every worker to exit on its own, and returns the merged history.</summary>
    public async Task<List<HistoryEvent>> FinishAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        foreach (var worker in _workers.Where(w => !w.HasExited))
        {
            await worker.WaitForExitAsync(cancel.Token);
        }

        for (var id = 0; id < _workers.Count; id++)
        {
            if (_workers[id].ExitCode != 0 && !_killed.Contains(id))
            {
                lock (_errors[id])
                {
                    throw new InvalidOperationException($"worker {id} exited with {_workers[id].ExitCode}: {_errors[id]}");
                }
            }
        }

        return History();
    }

    /// <summary>SIGKILL: the worker dies at once, holding whatever it held.</summary>
    public void Kill(int id)
    {
        _killed.Add(id);
        _workers[id].Kill();
    }

    /// <summary>SIGTERM: a graceful shutdown, which a worker that handles it (the election's) ends with exit code 0.</summary>
    public void Terminate(int id) => Signal(id, Signals.SigTerm);

    /// <summary>SIGTERM to every worker still running (each continued first, in case it was stopped), to end a run that has no end of its own.</summary>
    public void TerminateAll()
    {
        foreach (var id in Enumerable.Range(0, _workers.Count).Where(id => !_workers[id].HasExited))
        {
            Signals.Send(_workers[id].Id, Signals.SigCont);
            Signals.Send(_workers[id].Id, Signals.SigTerm);
        }
    }

    /// <summary>
    /// Ends worker <paramref name="id"/>, which may be stopped, and starts a new one in its place:
    /// SIGKILL (it dies at once, holding whatever it held), or with <paramref name="graceful"/> SIGTERM,
    /// which it acts on once continued. Returns when it counts as gone (a Stopwatch timestamp).
    /// </summary>
    public long Replace(int id, bool graceful)
    {
        if (graceful)
        {
            Terminate(id);
            Signal(id, Signals.SigCont);
        }
        else
        {
            Kill(id);
        }

        var goneAt = Stopwatch.GetTimestamp();
        AddWorker();
        return goneAt;
    }

    /// <summary>Pauses <paramref name="server"/> (SIGSTOP) for <paramref name="pause"/>; returns when it was paused and when resumed (Stopwatch timestamps).</summary>
    public static async Task<(long PausedAt, long ResumedAt)> PauseAsync(RedisServer server, TimeSpan pause)
    {
        await server.PauseAsync();
        var pausedAt = Stopwatch.GetTimestamp();
        await Task.Delay(pause); // time must pass while Redis is stopped
        var resumedAt = Stopwatch.GetTimestamp();
        server.Resume();
        return (pausedAt, resumedAt);
    }

    /// <summary>SIGSTOP to worker <paramref name="id"/>; returns once none of its threads can run.</summary>
    public Task StopAsync(int id) => Signals.StopAsync(_workers[id].Id);

    public void Signal(int id, int signal)
    {
        if (Signals.Send(_workers[id].Id, signal) != 0)
        {
            throw new InvalidOperationException($"could not signal worker {id}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            if (!worker.HasExited)
            {
                Signals.Send(worker.Id, Signals.SigCont);
                worker.Kill();
                await worker.WaitForExitAsync();
            }

            worker.Dispose();
        }

        await _fenced.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<(int Holder, long Token, List<int> Waiters)> WaitForContentionAsync(int least, int most, TimeSpan timeout)
    {
        (int, long, List<int>) seen = default;
        await WaitForAsync(
            history => Contention(history) is { } c && c.Waiters.Count >= least && c.Waiters.Count <= most && (seen = c) == c,
            timeout);
        return seen;
    }

    /// <summary>Who holds the lock now, and which live workers wait for it (asked, not yet answered); null while nobody holds it.</summary>
    private (int Holder, long Token, List<int> Waiters)? Contention(List<HistoryEvent> history)
    {
        if (CurrentHolder(history) is not { } holder)
        {
            return null;
        }

        var waiters = history.GroupBy(e => e.Worker)
            .Where(g => g.Last().Kind == "invoke" && g.Key != holder.Item1.ToString(CultureInfo.InvariantCulture))
            .Select(g => int.Parse(g.Key, CultureInfo.InvariantCulture))
            .Where(id => !_killed.Contains(id))
            .ToList();
        return (holder.Item1, holder.Item2, waiters);
    }

    private static (int, long)? CurrentHolder(List<HistoryEvent> history)
    {
        var last = history.LastOrDefault(e => e.Kind is "ok" or "release-invoke" or "lost");
        return last is { Kind: "ok" } ? (int.Parse(last.Worker, CultureInfo.InvariantCulture), last.Token) : null;
    }

    private string HistoryFile(int id) => Path.Combine(_directory, $"worker-{id}.history");

    /// <summary>
    /// One worker's history, read as it grows: each read parses only what was appended since, up to
    /// the last complete line (the worker may be writing the next). The tests poll the histories
    /// every 20 ms; reading every file whole each time took a core's worth of the 2 the workers
    /// share once a run had written some thousand lines.
    /// </summary>
    private sealed class GrowingHistory(string path)
    {
        private readonly List<HistoryEvent> _events = [];
        private long _offset;

        public IReadOnlyList<HistoryEvent> Read()
        {
            if (!File.Exists(path))
            {
                return _events;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var appended = new byte[stream.Length - _offset];
            stream.Seek(_offset, SeekOrigin.Begin);
            stream.ReadExactly(appended);
            var complete = Array.LastIndexOf(appended, (byte)'\n') + 1;
            _offset += complete;
            _events.AddRange(System.Text.Encoding.UTF8.GetString(appended, 0, complete)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(HistoryEvent.Parse));
            return _events;
        }
    }
}
