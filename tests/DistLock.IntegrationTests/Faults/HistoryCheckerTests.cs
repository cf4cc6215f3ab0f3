using System.Globalization;

namespace DistLock.IntegrationTests.Faults;

/// <summary>The checker catches what it is for on made-up histories of shared holds.</summary>
public sealed class HistoryCheckerTests
{
    [Fact]
    public void Check_FourSemaphoreHoldsAtOnceWithThreePermits_ReportsTheBound()
    {
        var history = Parse(
            "1 a invoke 0", "2 a ok 10 Semaphore", "3 a use 10",
            "1 b invoke 0", "3 b ok 11 Semaphore", "4 b use 11",
            "1 c invoke 0", "4 c ok 12 Semaphore", "5 c use 12",
            "1 d invoke 0", "5 d ok 13 Semaphore", "6 d use 13",
            "7 a use 10", "7 b use 11", "7 c use 12");

        Assert.Empty(HistoryChecker.Check(history, inModel: true, permits: 4));
        Assert.Contains(HistoryChecker.Check(history, inModel: true, permits: 3), v => v.StartsWith("bound", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_WriterOverlapsAReader_ReportsTheOverlap_ButReadersMayShare()
    {
        var readers = Parse("1 a invoke 0", "2 a ok 10 Read", "5 a use 10", "1 b invoke 0", "3 b ok 11 Read", "6 b use 11");
        var withWriter = Parse("1 a invoke 0", "2 a ok 10 Read", "5 a use 10", "1 w invoke 0", "3 w ok 11 Exclusive", "4 w use 11");

        Assert.Empty(HistoryChecker.Check(readers, inModel: true));
        Assert.Contains(HistoryChecker.Check(withWriter, inModel: true), v => v.StartsWith("overlap", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_WriteTokenBelowAnEarlierAcquisition_ReportsTheTokenOrder()
    {
        var history = Parse("1 a invoke 0", "2 a ok 20 Read", "3 a use 20", "4 a release 20 True", "5 w invoke 0", "6 w ok 15 Exclusive", "7 w use 15");

        Assert.Contains(HistoryChecker.Check(history, inModel: true), v => v.StartsWith("token order", StringComparison.Ordinal));
    }

    private static List<HistoryEvent> Parse(params string[] lines) =>
        [.. lines.Select(l => l.Split(' ')).Select(p => new HistoryEvent(
            long.Parse(p[0], CultureInfo.InvariantCulture), p[1], p[2], long.Parse(p[3], CultureInfo.InvariantCulture), p.Length > 4 ? p[4] : "")).OrderBy(e => e.Time)];
}
