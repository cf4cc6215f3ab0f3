using System.Diagnostics;
using System.Globalization;

namespace DistLock.FaultWorker;

/// <summary>
/// Appends events to this worker's history file, one line each, flushed at once so that a worker
/// killed with SIGKILL leaves everything it did. Times are Stopwatch timestamps: CLOCK_MONOTONIC on
/// Linux, shared by every process on the machine, so the histories of all workers can be merged.
/// </summary>
internal sealed class HistoryWriter : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly string _id;
    private readonly Lock _gate = new();

    public HistoryWriter(string path, string id)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        _id = id;
    }

    /// <summary>Writes "time id event token detail".</summary>
    public void Write(string @event, long token = 0, string detail = "", long? at = null)
    {
        var time = at ?? Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{time}\t{_id}\t{@event}\t{token}\t{detail}"));
        }
    }

    public void Dispose() => _writer.Dispose();
}
