using DistLock.Algorithm;

namespace DistLock.Tests.Algorithm;

public sealed class RetryTimingTests
{
    [Fact]
    public void NextDelay_ManyDraws_StayBetweenHalfAndAllOfRetryDelayAndSpread()
    {
        var random = new Random(42);
        var delays = Enumerable.Range(0, 1000)
            .Select(_ => RetryTiming.NextDelay(TimeSpan.FromMilliseconds(200), null, random))
            .ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)));
        Assert.True(delays.Distinct().Count() > 100, "delays must be spread, not in lockstep");
    }

    [Fact]
    public void NextDelay_LessTimeLeftThanDelay_IsClampedToTimeLeft() =>
        Assert.Equal(
            TimeSpan.FromMilliseconds(30),
            RetryTiming.NextDelay(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(30), new Random(1)));

    [Fact]
    public void NextDelay_ZeroRetryDelay_IsZero() =>
        Assert.Equal(TimeSpan.Zero, RetryTiming.NextDelay(TimeSpan.Zero, null, new Random(1)));
}
