using System.Globalization;

namespace DistLock.FaultWorker;

/// <summary>How a worker behaves; the fault tests set it on the command line.</summary>
internal sealed class WorkerSettings
{
    public List<string> Redis { get; } = [];

    /// <summary>The separate, never-faulted Redis that holds the fenced resource.</summary>
    public string Fenced { get; private set; } = "";

    public string Resource { get; private set; } = "";

    public string History { get; private set; } = "";

    public string Id { get; private set; } = "0";

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(3);

    public TimeSpan Ttl { get; private set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest time a holder stays inside; each hold is drawn at random from half of it to all of it.</summary>
    public TimeSpan Hold { get; private set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long one acquire waits before the worker records a failure and asks again.</summary>
    public TimeSpan Wait { get; private set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a worker stays away after a release before it asks again (0: at once).</summary>
    public TimeSpan Rest { get; private set; } = TimeSpan.Zero;

    /// <summary>
    /// correct, plain-del (releases with a bare DEL), ignore-lost (works on past its validity), or
    /// cancel-release (cancels each release right after sending it, and works on while State says Held).
    /// </summary>
    public string Mode { get; private set; } = "correct";

    /// <summary>
    /// What the workers take: lock (the exclusive lock), semaphore (one of <see cref="Permits"/>), rw (a
    /// read lock or the exclusive lock, see <see cref="ReadShare"/>), election (they campaign to lead
    /// the election named by <see cref="Resource"/>, see ElectionWorker), or multi (sets of locks taken
    /// together, see MultiResourceWorker).
    /// </summary>
    public string Kind { get; private set; } = "lock";

    /// <summary>For --kind semaphore: the semaphore's maxCount.</summary>
    public int Permits { get; private set; } = 1;

    /// <summary>For --kind rw: the share of acquisitions that take the read lock (the rest take the exclusive lock, the write lock).</summary>
    public double ReadShare { get; private set; } = 0.9;

    /// <summary>
    /// A holder releases only once at least this many wait in the line (as <c>InspectAsync</c> or
    /// <c>InspectSemaphoreAsync</c> counts them), or the run is over; 0: at the end of its hold.
    /// </summary>
    public int ReleaseAtLine { get; private set; }

    /// <summary>For --kind multi: how many names the sets are drawn from.</summary>
    public int Names { get; private set; } = 20;

    /// <summary>For --kind multi: the largest set; each set's size is drawn from 1 to this.</summary>
    public int LargestSet { get; private set; } = 4;

    public static WorkerSettings Parse(string[] args)
    {
        var settings = new WorkerSettings();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--redis": settings.Redis.Add(value); break;
                case "--fenced": settings.Fenced = value; break;
                case "--resource": settings.Resource = value; break;
                case "--history": settings.History = value; break;
                case "--id": settings.Id = value; break;
                case "--seconds": settings.Duration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--ttl-ms": settings.Ttl = TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--hold-ms": settings.Hold = TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--mode": settings.Mode = value; break;
                case "--rest-ms": settings.Rest = TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--wait-ms": settings.Wait = TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--kind": settings.Kind = value is "lock" or "semaphore" or "rw" or "election" or "multi" ? value : throw new ArgumentException($"Unknown kind {value}", nameof(args)); break;
                case "--permits": settings.Permits = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--read-share": settings.ReadShare = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--release-at-line": settings.ReleaseAtLine = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--names": settings.Names = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--largest-set": settings.LargestSet = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown option {args[i]}", nameof(args));
            }
        }

        if (settings.Redis.Count == 0 || settings.Fenced.Length == 0 || settings.Resource.Length == 0 || settings.History.Length == 0)
        {
            throw new ArgumentException("--redis, --fenced, --resource and --history are required.", nameof(args));
        }

        return settings;
    }
}
