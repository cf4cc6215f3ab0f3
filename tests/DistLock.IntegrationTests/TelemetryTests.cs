using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DistLock.IntegrationTests.Fixtures;
using Microsoft.Extensions.Logging;

namespace DistLock.IntegrationTests;

/// <summary>Metrics, traces and log events for acquire, contention, extension and loss.</summary>
[Collection(SingleNodeCollection.Name)]
public sealed class TelemetryTests(SingleNodeFixture nodes)
{
    [Fact]
    public async Task Metrics_AcquireContentionExtensionAndLoss_AreMeasured_WithoutResourceNames()
    {
        using var meters = new TestMeterFactory();
        using var recorder = new MeasurementRecorder(meters);
        // NodeTimeout 5 s: a cold first run on a loaded machine saw a release take over the default 1 s.
        var options = new RedisLockManagerOptions { MeterFactory = meters, NodeTimeout = TimeSpan.FromSeconds(5), Defaults = { Ttl = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromMilliseconds(20) } };
        await using var first = await nodes.ConnectAsync(options);
        await using var second = await nodes.ConnectAsync(options);
        var resource = "metrics-" + Guid.NewGuid().ToString("N");

        var held = await first.AcquireAsync(resource);
        var waiting = second.AcquireAsync(resource, Eventually.Patience);
        // An automatic extension is due every 667 ms; a loaded machine may run it late, so wait for it.
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () =>
            Task.FromResult(recorder.Sum("distlock.lock.extensions", "distlock.outcome", "extended") >= 1)));
        await held.ReleaseAsync();
        var next = await waiting;
        await nodes.DeleteEverywhereAsync(next.Key);
        await next.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(2, recorder.Count("distlock.acquire.duration", "distlock.outcome", "acquired"));
        Assert.Equal(1, recorder.Sum("distlock.acquire.contended"));
        Assert.True(recorder.Sum("distlock.lock.extensions", "distlock.outcome", "extended") >= 1);
        Assert.Equal(1, recorder.Sum("distlock.lock.extensions", "distlock.outcome", "refused"));
        Assert.Equal(1, recorder.Sum("distlock.lock.lost", "distlock.reason", "refused"));
        Assert.Equal(0, recorder.Sum("distlock.lock.held"));
        Assert.Equal(2, recorder.Count("distlock.lock.held.duration"));
        Assert.All(recorder.All, m => Assert.DoesNotContain(m.Tags, t => t.Key == "distlock.resource"));
        Assert.All(recorder.All, m => Assert.Contains(m.Tags, t => t is { Key: "distlock.mode", Value: "single" }));
    }

    [Fact]
    public async Task Metrics_BusyAndBackendFailures_AreCountedByKind()
    {
        using var meters = new TestMeterFactory();
        using var recorder = new MeasurementRecorder(meters);
        await using var manager = await nodes.ConnectAsync(new RedisLockManagerOptions { MeterFactory = meters });
        var resource = "busy-" + Guid.NewGuid().ToString("N");
        await using var held = await manager.AcquireAsync(resource);

        Assert.Null(await manager.TryAcquireAsync(resource));

        Assert.Equal(1, recorder.Sum("distlock.failures", "distlock.failure", "busy"));
        Assert.Equal(1, recorder.Count("distlock.acquire.duration", "distlock.outcome", "busy"));
    }

    [Fact]
    public async Task ExtensionFailures_AreMeasuredAndLogged_ThenTheLockIsLostAtItsDeadline()
    {
        await using var server = await DistLock.RedisRig.RedisServer.StartAsync();
        using var meters = new TestMeterFactory();
        using var recorder = new MeasurementRecorder(meters);
        var logger = new ListLogger();
        // TTL 3 s: the first extension is due at 1 s and fails, with retries until the deadline. With
        // 600 ms, a timer run 400 ms late (seen on a loaded machine) found the deadline passed before
        // any extension was tried, and no failure was counted.
        await using var manager = await RedisLockManager.ConnectAsync(
            server.Endpoint, new RedisLockManagerOptions { MeterFactory = meters, NodeTimeout = TimeSpan.FromMilliseconds(150), Defaults = { Ttl = TimeSpan.FromSeconds(3) } }, logger);
        var handle = await manager.AcquireAsync("failing-" + Guid.NewGuid().ToString("N"));

        server.Kill();
        await handle.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(15));

        Assert.True(recorder.Sum("distlock.lock.extensions", "distlock.outcome", "failed") >= 1);
        Assert.Equal(1, recorder.Sum("distlock.lock.lost", "distlock.reason", "expired"));
        Assert.Contains(logger.Entries, e => e.Id.Id == 1008);

        // The lost signal is cancelled first and the warning written after it, on another thread.
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(logger.Entries.Any(e => e.Id.Id == 1007))), "no warning 1007");

        // Held to the end: a handle nothing references is collected, and its finalizer abandons
        // the lock (lost, "abandoned"), which a collection while the test waits made it do.
        GC.KeepAlive(handle);
    }

    [Fact]
    public async Task Traces_AcquireExtendAndRelease_AreActivities()
    {
        var resource = "traced-" + Guid.NewGuid().ToString("N");
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == LockTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var manager = await nodes.ConnectAsync();

        var handle = await manager.AcquireAsync(resource);
        var token = await handle.GetFencingTokenAsync();
        Assert.True(await handle.ExtendAsync());
        await handle.ReleaseAsync();

        var mine = activities.Where(a => Equals(a.GetTagItem("distlock.resource"), resource) || Equals(a.GetTagItem("distlock.resource"), handle.Key)).ToList();
        Assert.Equal(["distlock.acquire", "distlock.fence", "distlock.extend", "distlock.release"], mine.Select(a => a.OperationName));
        Assert.Equal(token, mine[1].GetTagItem("distlock.fencing_token"));
        Assert.Equal("acquired", mine[0].GetTagItem("distlock.outcome"));
    }

    [Fact]
    public async Task Log_LostLock_IsAWarningWithAStableEventId_AndNoLockValue()
    {
        var logger = new ListLogger();
        await using var manager = await RedisLockManager.ConnectAsync(nodes.Endpoints, new RedisLockManagerOptions { Defaults = { Ttl = TimeSpan.FromMilliseconds(300) } }, logger);
        var handle = await manager.AcquireAsync("logged-" + Guid.NewGuid().ToString("N"));

        await nodes.DeleteEverywhereAsync(handle.Key);
        await handle.LostToken.WhenCancelledAsync(TimeSpan.FromSeconds(5));

        // The lost signal is cancelled first and the warning written after it, on another thread.
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, () => Task.FromResult(logger.Entries.Any(e => e.Id.Id == 1007))), "no warning 1007");
        var lost = Assert.Single(logger.Entries, e => e.Id.Id == 1007);
        Assert.Equal(LogLevel.Warning, lost.Level);
        Assert.Contains(handle.Key, lost.Message, StringComparison.Ordinal);
        Assert.All(logger.Entries, e => Assert.DoesNotContain(handle.HolderId, e.Message, StringComparison.Ordinal));
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public IReadOnlyList<Meter> Meters => _meters;

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    /// <summary>Listens to the meters of one factory only, so tests running alongside do not mix in.</summary>
    private sealed class MeasurementRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

        public MeasurementRecorder(TestMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.SetMeasurementEventCallback<int>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.Start();
        }

        public IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> All => _measurements;

        public int Count(string name, string? tag = null, string? value = null) => Matching(name, tag, value).Count();

        public double Sum(string name, string? tag = null, string? value = null) => Matching(name, tag, value).Sum(m => m.Value);

        public void Dispose() => _listener.Dispose();

        private IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, string? tag, string? value) =>
            _measurements.Where(m => m.Name == name && (tag is null || m.Tags.Any(t => t.Key == tag && Equals(t.Value, value))));
    }
}
