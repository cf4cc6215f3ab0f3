using System.Diagnostics.Metrics;
using DistLock.Algorithm;

namespace DistLock.Tests.Algorithm;

public sealed class LockMetricsAdviceTests
{
    [Theory]
    [InlineData("distlock.acquire.duration", 0.001, 10)]
    [InlineData("distlock.lock.held.duration", 0.001, 3600)]
    public void DurationHistograms_AdviseBucketsFromUnderAMillisecondToSeconds(string name, double smallest, double largest)
    {
        using var meter = new Meter("advice-" + Guid.NewGuid().ToString("N"));
        var instruments = new List<Instrument>();
        using var listener = new MeterListener { InstrumentPublished = (instrument, _) => instruments.Add(instrument) };
        listener.Start();
        _ = new LockMetrics(meter, "single");

        var histogram = Assert.IsType<Histogram<double>>(Assert.Single(instruments, i => i.Meter == meter && i.Name == name));
        var buckets = histogram.Advice?.HistogramBucketBoundaries;

        Assert.NotNull(buckets);
        Assert.Contains(smallest, buckets);
        Assert.Contains(largest, buckets);
        Assert.Equal(buckets.Order(), buckets);
        Assert.Equal("s", histogram.Unit);
    }
}
