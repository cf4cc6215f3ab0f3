using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StackExchange.Redis;

namespace DistLock.Cli.Commands;

/// <summary>
/// <c>distlock demo</c>: worker processes contend for one lock guarding a shared counter; live
/// progress, then a summary that checks the counter, the absence of overlap and the fencing tokens.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var redis = CommonOptions.Redis();
        var workers = new Option<int>("--workers") { Description = "How many worker processes", DefaultValueFactory = _ => 3 };
        var seconds = new Option<double>("--seconds") { Description = "How long the workers run", DefaultValueFactory = _ => 5 };
        var demo = new Command("demo", CommonOptions.Describe(
            "Worker processes contend for one lock; live progress and a verified summary (embedded server unless --redis). Off a terminal it writes plain lines.",
            "distlock demo",
            "distlock demo --workers 5 --seconds 10 --redis localhost:6379",
            "distlock demo --redis a:6379 --redis b:6379 --redis c:6379     # Redlock"))
        {
            redis, workers, seconds,
        };
        demo.SetAction((parse, cancellationToken) =>
        {
            var count = parse.GetValue(workers);
            var duration = parse.GetValue(seconds);
            if (count is < 1 or > 64)
            {
                throw new CliException(ExitCodes.Usage, "--workers: from 1 to 64");
            }

            if (duration is <= 0 or > 3600 || double.IsNaN(duration))
            {
                throw new CliException(ExitCodes.Usage, "--seconds: more than 0, at most 3600");
            }

            return RunAsync(RedisTargets.Resolve(parse.GetValue(redis)), count, duration, cancellationToken);
        });
        return demo;
    }

    private static async Task<int> RunAsync(IReadOnlyList<string> targets, int count, double seconds, CancellationToken cancellationToken)
    {
        using var interrupts = new Interrupts();
        using var embedded = targets.Count == 0 ? EmbeddedServer.Start(0, quiet: true) : null;
        if (embedded is not null)
        {
            targets = [embedded.Endpoint];
        }
        else
        {
            // Reach Redis once before starting any worker: an outage is one line and exit 69, not a
            // live table of idle workers followed by each worker's error.
            await using var probe = await RedisTargets.ConnectAsync(targets, new RedisLockManagerOptions(), cancellationToken);
        }

        var where = embedded is not null ? $"the embedded server at {embedded.Endpoint}"
            : targets.Count == 1 ? "one Redis" : $"Redlock over {targets.Count} nodes";
        AnsiConsole.MarkupLine($"[bold]distlock demo[/]: {count} worker processes, {seconds:0.#} s, on {Markup.Escape(where)}");

        var resource = "demo-" + Guid.NewGuid().ToString("N")[..8];
        var sections = new ConcurrentQueue<Section>();
        var progress = new Progress(count);
        var processes = new List<Process>();
        try
        {
            for (var id = 0; id < count; id++)
            {
                var arguments = new List<string> { "worker", "--resource", resource, "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--id", id.ToString(CultureInfo.InvariantCulture) };
                var start = SelfLauncher.StartInfo(arguments);
                start.Environment[DemoWorkerCommand.TargetsVariable] = string.Join('\n', targets);
                var process = Process.Start(start) ?? throw new CliException(ExitCodes.Failure, "could not start a worker");
                processes.Add(process);
                process.OutputDataReceived += (_, line) => progress.Read(line.Data, sections);
                process.BeginOutputReadLine();
            }

            var errors = processes.Select(p => p.StandardError.ReadToEndAsync(cancellationToken)).ToList();
            var exited = Task.WhenAll(processes.Select(p => p.WaitForExitAsync(cancellationToken)));
            if (Console.IsOutputRedirected)
            {
                // Not a terminal (a pipe, a file, CI): plain lines, one a second, no cursor movement.
                var started = TimeProvider.System.GetTimestamp();
                while (!exited.IsCompleted && !interrupts.Token.IsCancellationRequested)
                {
                    await Task.WhenAny(exited, Task.Delay(1000, interrupts.Token));
                    Console.WriteLine($"{TimeProvider.System.GetElapsedTime(started).TotalSeconds:0.0}s {progress.Line()}");
                }
            }
            else
            {
                await AnsiConsole.Live(progress.Render()).StartAsync(async live =>
                {
                    while (!exited.IsCompleted && !interrupts.Token.IsCancellationRequested)
                    {
                        live.UpdateTarget(progress.Render());
                        await Task.WhenAny(exited, Task.Delay(100, interrupts.Token));
                    }

                    live.UpdateTarget(progress.Render());
                });
            }

            if (interrupts.Received is not null)
            {
                return interrupts.ExitCode;
            }

            await exited;
            for (var id = 0; id < processes.Count; id++)
            {
                if (processes[id].ExitCode != 0)
                {
                    throw new CliException(ExitCodes.Failure, $"worker {id} failed ({processes[id].ExitCode}): {(await errors[id]).Trim()}");
                }
            }

            await using var data = await ConnectionMultiplexer.ConnectAsync(targets[0]);
            var counter = (long?)await data.GetDatabase().StringGetAsync(DemoWorkerCommand.CounterKey(resource)) ?? 0;
            await data.GetDatabase().KeyDeleteAsync(DemoWorkerCommand.CounterKey(resource));
            return Summarize([.. sections], counter);
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                process.Dispose();
            }
        }
    }

    private static int Summarize(List<Section> sections, long counter)
    {
        var ordered = sections.OrderBy(s => s.Start).ToList();
        var overlaps = ordered.Zip(ordered.Skip(1)).Count(pair => pair.Second.Start <= pair.First.End);
        var tokensOutOfOrder = ordered.Zip(ordered.Skip(1)).Count(pair => pair.Second.Token <= pair.First.Token);
        var rows = new (string Check, string Result)[]
        {
            ("critical sections", sections.Count.ToString(CultureInfo.InvariantCulture)),
            ("shared counter", $"{counter} ({(counter == sections.Count ? "equal: no update was lost" : "DIFFERENT: updates were lost")})"),
            ("overlapping sections", overlaps.ToString(CultureInfo.InvariantCulture)),
            ("fencing tokens out of order", tokensOutOfOrder.ToString(CultureInfo.InvariantCulture)),
        };
        if (Console.IsOutputRedirected)
        {
            foreach (var (check, result) in rows)
            {
                Console.WriteLine($"{check}: {result}");
            }
        }
        else
        {
            var checks = new Table().AddColumns("check", "result");
            foreach (var (check, result) in rows)
            {
                checks.AddRow(check, Markup.Escape(result));
            }

            AnsiConsole.Write(checks);
        }

        var verified = sections.Count > 0 && counter == sections.Count && overlaps == 0 && tokensOutOfOrder == 0;
        AnsiConsole.MarkupLine(verified
            ? $"[green]verified[/]: {sections.Count} critical sections, counter {counter}, no overlap, fencing tokens increasing"
            : "[red]FAILED[/]: the checks above do not hold");
        return verified ? ExitCodes.Success : ExitCodes.Failure;
    }

    private sealed record Section(int Worker, long Token, long Start, long End, long Wait);

    /// <summary>What the workers report, tallied for the live view.</summary>
    private sealed class Progress(int workers)
    {
        private readonly int[] _acquisitions = new int[workers];
        private readonly double[] _waitedMs = new double[workers];
        private int _holder = -1;

        public void Read(string? line, ConcurrentQueue<Section> sections)
        {
            var fields = line?.Split(' ');
            if (fields is null || fields.Length < 3 || !int.TryParse(fields[1], CultureInfo.InvariantCulture, out var id) || id < 0 || id >= workers)
            {
                return;
            }

            var token = long.Parse(fields[2], CultureInfo.InvariantCulture);
            if (fields[0] == "acquired")
            {
                Volatile.Write(ref _holder, id);
            }
            else if (fields[0] == "section" && fields.Length >= 6)
            {
                var wait = long.Parse(fields[5], CultureInfo.InvariantCulture);
                sections.Enqueue(new Section(id, token, long.Parse(fields[3], CultureInfo.InvariantCulture), long.Parse(fields[4], CultureInfo.InvariantCulture), wait));
                Interlocked.Increment(ref _acquisitions[id]);
                lock (_waitedMs)
                {
                    _waitedMs[id] += wait * 1000.0 / Stopwatch.Frequency;
                }
            }
        }

        /// <summary>The live view as one plain line: acquisitions per worker and the holder.</summary>
        public string Line()
        {
            var holder = Volatile.Read(ref _holder);
            var counts = Enumerable.Range(0, workers).Select(id => $"{id}:{Volatile.Read(ref _acquisitions[id])}");
            return $"acquisitions {string.Join(' ', counts)}; holder {(holder < 0 ? "-" : holder.ToString(CultureInfo.InvariantCulture))}";
        }

        public Table Render()
        {
            var table = new Table().AddColumns("worker", "acquisitions", "mean wait", "holding");
            var holder = Volatile.Read(ref _holder);
            for (var id = 0; id < workers; id++)
            {
                var count = Volatile.Read(ref _acquisitions[id]);
                double waited;
                lock (_waitedMs)
                {
                    waited = _waitedMs[id];
                }

                table.AddRow(
                    id.ToString(CultureInfo.InvariantCulture),
                    count.ToString(CultureInfo.InvariantCulture),
                    count == 0 ? "-" : $"{waited / count:0.0} ms",
                    id == holder ? "[green]<- holds the lock[/]" : "");
            }

            return table;
        }
    }
}
