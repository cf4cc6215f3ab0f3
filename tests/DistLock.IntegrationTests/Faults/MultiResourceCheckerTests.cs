using static DistLock.IntegrationTests.Faults.HistoryCheckerTests;

namespace DistLock.IntegrationTests.Faults;

/// <summary>
/// The checker of sets of locks taken together catches what it is for on made-up histories: two
/// holds of one member at once, writes of two holds interleaved on a member, a member's token below
/// an earlier one of it, a stale write, a handle of another set, and a worker that stopped acquiring.
/// Members are numbers; a write's detail is <c>member@invoked-at</c>, as the worker writes it.
/// </summary>
public sealed class MultiResourceCheckerTests
{
    private static readonly HistoryChecker.Fault[] NoFaults = [];

    [Fact]
    public void Check_OverlappingSetsTakingTurns_AndDisjointSetsHoldingTogether_IsClean()
    {
        var history = Parse(
            "1 a invoke 0 2,1", "2 a ok 10 1,2", "3 a use 10", "4 a write-ok 10 1@3", "5 a write-ok 10 2@4", "6 a release-invoke 10", "7 a release 10 True",
            "1 b invoke 0 2,3", "8 b ok 11 2,3", "9 b use 11", "10 b write-ok 11 2@9", "11 b write-ok 11 3@10",
            "1 c invoke 0 5", "3 c ok 12 5", "4 c use 12", "5 c write-ok 12 5@4");

        Assert.Empty(MultiResourceChecker.Check(history, NoFaults));
    }

    [Fact]
    public void Check_TwoHoldsOfOneMemberAtOnce_ReportsTheOverlapOnThatMemberOnly()
    {
        var history = Parse("1 a invoke 0 1,2", "2 a ok 10 1,2", "5 a use 10", "1 b invoke 0 2,3", "3 b ok 11 2,3", "4 b use 11");

        var violations = MultiResourceChecker.Check(history, NoFaults);

        Assert.Contains(violations, v => v.StartsWith("member 2: overlap", StringComparison.Ordinal));
        Assert.DoesNotContain(violations, v => v.StartsWith("member 1", StringComparison.Ordinal) || v.StartsWith("member 3", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_WritesOfTwoHoldsInterleavedOnAMember_ReportsTheInterleaving()
    {
        // b wrote to 2 between two of a's writes.
        var history = Parse(
            "1 a invoke 0 2", "2 a ok 10 2", "3 a use 10", "4 a write-ok 10 2@3", "9 a write-ok 10 2@8",
            "1 b invoke 0 2", "3 b ok 11 2", "5 b use 11", "6 b write-ok 11 2@5");

        Assert.Contains(MultiResourceChecker.Check(history, NoFaults), v => v.StartsWith("member 2: interleaved: worker a", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_AMembersTokenBelowAnEarlierHoldOfIt_ReportsTheTokenOrderOnThatMember()
    {
        var history = Parse(
            "1 a invoke 0 1,2", "2 a ok 20 1,2", "3 a use 20", "4 a release-invoke 20", "5 a release 20 True",
            "1 b invoke 0 2", "6 b ok 15 2", "7 b use 15");

        var violations = MultiResourceChecker.Check(history, NoFaults);

        Assert.Contains(violations, v => v.StartsWith("member 2: token order", StringComparison.Ordinal));
        Assert.DoesNotContain(violations, v => v.StartsWith("member 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_AStaleWriteAccepted_ReportsIt()
    {
        var history = Parse("1 a invoke 0 1", "2 a ok 20 1", "3 a use 20", "4 a write-ok 20 1@3", "6 b write-ok 10 1@5");

        Assert.Contains(MultiResourceChecker.Check(history, NoFaults), v => v.StartsWith("member 1: stale write", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_AHandleOfAnotherSetThanAsked_ReportsTheMembers()
    {
        var history = Parse("1 a invoke 0 2,1", "2 a ok 10 1,2", "3 a invoke 0 1,2", "4 a ok 11 1,3");

        var violations = MultiResourceChecker.Check(history, NoFaults);

        Assert.Single(violations, v => v.StartsWith("members: worker a asked for 1,2", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_AHoldStoppedPastItsLease_IsJudgedByItsWritesOnly()
    {
        // Worker 0 is stopped from 3 to 10 while it holds 1; worker 1 takes 1 meanwhile. 0's step after it woke is out of the model.
        string[] lines = ["1 0 invoke 0 1", "2 0 ok 10 1", "2 0 use 10", "1 1 invoke 0 1", "6 1 ok 11 1", "7 1 use 11", "8 1 write-ok 11 1@7", "11 0 use 10"];
        HistoryChecker.Fault[] stop = [new("stop", 0, 3, 10)];
        var history = Parse(lines);
        var lateWrite = Parse([.. lines, "13 0 write-ok 10 1@12"]);

        Assert.Empty(MultiResourceChecker.Check(history, stop));
        Assert.Contains(MultiResourceChecker.Check(history, NoFaults), v => v.StartsWith("member 1: overlap", StringComparison.Ordinal));
        Assert.Contains(MultiResourceChecker.Check(lateWrite, stop), v => v.StartsWith("member 1: stale write", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckProgress_AStretchWithoutAnAcquisitionLongerThanTheBound_IsReported_ButNotTheTimeStoppedOrAfterAKillOrBeforeTheRunBegan()
    {
        var bound = TimeSpan.FromSeconds(2);
        string[] lines =
        [
            At(0, "0 start 0"), At(0.5, "0 ok 1 1"), At(1.5, "0 ok 3 1"), At(2.5, "0 ok 5 1"), At(3.5, "0 ok 7 1"),
            At(0, "1 start 0"), At(0.5, "1 ok 2 2"), At(3.5, "1 ok 8 2"),
        ];
        var history = Parse(lines);
        var until = Ticks(4);

        Assert.Single(MultiResourceChecker.CheckProgress(history, NoFaults, bound, 0, until), v => v.StartsWith("progress: worker 1 went 3000 ms", StringComparison.Ordinal));
        Assert.Empty(MultiResourceChecker.CheckProgress(history, [new("stop", 1, Ticks(1), Ticks(3))], bound, 0, until));
        Assert.Empty(MultiResourceChecker.CheckProgress(history, [new("kill", 1, Ticks(1), Ticks(1))], bound, 0, until));

        // A worker that never acquired, from its start to the end; one slow to start counts from when the run began.
        var idle = Parse([.. lines, At(0, "2 start 0")]);
        var slowStart = Parse([.. lines, At(0, "2 start 0"), At(3, "2 ok 6 3")]);
        Assert.Contains(MultiResourceChecker.CheckProgress(idle, [new("stop", 1, Ticks(1), Ticks(3))], bound, 0, until), v => v.StartsWith("progress: worker 2", StringComparison.Ordinal));
        Assert.Contains(MultiResourceChecker.CheckProgress(slowStart, [new("stop", 1, Ticks(1), Ticks(3))], bound, 0, until), v => v.StartsWith("progress: worker 2", StringComparison.Ordinal));
        Assert.Empty(MultiResourceChecker.CheckProgress(slowStart, [new("stop", 1, Ticks(1), Ticks(3))], bound, Ticks(1.5), until));
    }
}
