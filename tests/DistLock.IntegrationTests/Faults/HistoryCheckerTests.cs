using System.Diagnostics;
using System.Globalization;

namespace DistLock.IntegrationTests.Faults;

/// <summary>The checker catches what it is for on made-up histories: of shared holds, and of an election's failovers and progress.</summary>
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

    [Fact]
    public void CheckFailovers_AHandoverSlowerThanItsBound_IsReported_AndOneWithNobodyCampaigningIsNot()
    {
        var bounds = new HistoryChecker.FailoverBounds(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1));
        var quick = Parse(At(0, "a invoke 0"), At(0.1, "a ok 1 term"), At(0.2, "b invoke 0"), At(0.9, "a release-invoke 1"), At(1, "a release 1 True"), At(1.5, "b ok 2 term"));
        var slow = Parse(At(0, "a invoke 0"), At(0.1, "a ok 1 term"), At(0.2, "b invoke 0"), At(0.9, "a release-invoke 1"), At(1, "a release 1 True"), At(2.5, "b ok 2 term"));
        var alone = Parse(At(0, "a invoke 0"), At(0.1, "a ok 1 term"), At(0.9, "a release-invoke 1"), At(1, "a release 1 True"), At(2, "b invoke 0"), At(5, "b ok 2 term"));

        Assert.Empty(HistoryChecker.CheckFailovers(quick, [], bounds, long.MaxValue));
        Assert.Contains(HistoryChecker.CheckFailovers(slow, [], bounds, long.MaxValue), v => v.StartsWith("failover", StringComparison.Ordinal));
        Assert.Empty(HistoryChecker.CheckFailovers(alone, [], bounds, long.MaxValue));

        // b asked just before the resignation (not in line yet): a leads again, and the wait for b is not a handover's.
        var justAsked = Parse(At(0, "a invoke 0"), At(0.1, "a ok 1 term"), At(0.85, "b invoke 0"), At(0.9, "a release-invoke 1"), At(1, "a release 1 True"), At(1.01, "a invoke 0"), At(1.02, "a ok 2 term"), At(3.5, "b ok 3 term"));
        Assert.Empty(HistoryChecker.CheckFailovers(justAsked, [], bounds, long.MaxValue));

        // Redis paused from 1.2 s to 2 s: the handover it held up is the pause's failover, within its bound.
        var pause = new HistoryChecker.Fault("redis", -1, Ticks(1.2), Ticks(2));
        Assert.Empty(HistoryChecker.CheckFailovers(slow, [pause], bounds, long.MaxValue));
    }

    [Fact]
    public void CheckFailovers_AStoppedLeadersWriteAcceptedAfterItWasContinued_IsReported()
    {
        var bounds = new HistoryChecker.FailoverBounds(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1));
        var stop = new HistoryChecker.Fault("stop", 0, Ticks(1), Ticks(4));
        string[] before = [At(0, "0 invoke 0"), At(0.1, "0 ok 1 term"), At(0.2, "1 invoke 0"), At(3, "1 ok 2 term"), At(3.5, $"1 write-ok 2 {Ticks(3.4)}")];
        var refused = Parse([.. before, At(4.2, $"0 write-rejected 1 {Ticks(4.1)}")]);
        var accepted = Parse([.. before, At(4.2, $"0 write-ok 1 {Ticks(4.1)}")]);
        var silent = Parse(before);

        Assert.Empty(HistoryChecker.CheckFailovers(refused, [stop], bounds, long.MaxValue));
        Assert.Contains(HistoryChecker.CheckFailovers(accepted, [stop], bounds, long.MaxValue), v => v.Contains("was accepted", StringComparison.Ordinal));
        Assert.Contains(HistoryChecker.CheckFailovers(silent, [stop], bounds, long.MaxValue), v => v.Contains("never wrote", StringComparison.Ordinal));
        Assert.Contains(HistoryChecker.Check(accepted, inModel: false), v => v.StartsWith("stale write", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckProgress_AWorkerPassedOverByMoreTermsThanWorkers_IsReported()
    {
        // Two workers: a candidate in line is served after at most one term of the other.
        var waited = Parse("0 a start 0", "1 a invoke 0", "0 b start 0", "2 b invoke 0", "3 b ok 1 term", "4 b release 1 True", "5 b invoke 0");
        var passedOver = Parse([.. waited.Select(Line), "6 b ok 2 term"]);

        Assert.Empty(HistoryChecker.CheckProgress(waited, long.MaxValue));
        Assert.Contains(HistoryChecker.CheckProgress(passedOver, long.MaxValue), v => v.StartsWith("progress: worker a", StringComparison.Ordinal));
    }

    internal static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    /// <summary>A history line at <paramref name="seconds"/>, in Stopwatch ticks as the workers write them.</summary>
    internal static string At(double seconds, string rest) => string.Create(CultureInfo.InvariantCulture, $"{Ticks(seconds)} {rest}");

    private static string Line(HistoryEvent e) => string.Create(CultureInfo.InvariantCulture, $"{e.Time} {e.Worker} {e.Kind} {e.Token} {e.Detail}").TrimEnd();

    /// <summary>Events written "time worker kind token [detail]", in time order.</summary>
    internal static List<HistoryEvent> Parse(params string[] lines) =>
        [.. lines.Select(l => l.Split(' ')).Select(p => new HistoryEvent(
            long.Parse(p[0], CultureInfo.InvariantCulture), p[1], p[2], long.Parse(p[3], CultureInfo.InvariantCulture), p.Length > 4 ? p[4] : "")).OrderBy(e => e.Time)];
}
