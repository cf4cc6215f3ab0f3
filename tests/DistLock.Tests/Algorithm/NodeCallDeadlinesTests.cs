using DistLock.Algorithm;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

public sealed class NodeCallDeadlinesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(50);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeLockNode _node;

    public NodeCallDeadlinesTests() => _node = new FakeLockNode("node0", _time);

    [Fact]
    public async Task Bound_Answered_PassesTheAnswerOn()
    {
        var deadlines = NodeCallDeadlines.For(_time, Timeout);
        var call = new TaskCompletionSource<NodeResult>();

        var bounded = deadlines.Bound(call.Task, _node);
        call.SetResult(NodeResult.GrantedWith(7));

        var answer = await bounded;
        Assert.Equal(NodeReply.Granted, answer.Reply);
        Assert.Equal(7, answer.Fence);
    }

    [Fact]
    public async Task Bound_CallFails_AnswersFailedWithItsError()
    {
        var deadlines = NodeCallDeadlines.For(_time, Timeout);
        var call = new TaskCompletionSource<NodeResult>();

        var bounded = deadlines.Bound(call.Task, _node);
        call.SetException(new InvalidOperationException("boom"));

        var answer = await bounded;
        Assert.Equal(NodeReply.Failed, answer.Reply);
        Assert.IsType<InvalidOperationException>(answer.Error);
    }

    [Fact]
    public async Task Bound_Unanswered_FailsAtTheTimeout_NotBefore()
    {
        var deadlines = NodeCallDeadlines.For(_time, Timeout);
        var hung = new TaskCompletionSource<NodeResult>().Task;

        var bounded = deadlines.Bound(hung, _node);
        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(bounded.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var answer = await bounded.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(NodeReply.Failed, answer.Reply);
        Assert.IsType<TimeoutException>(answer.Error);
        Assert.Contains("node0", answer.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bound_ManyCallsAnsweredBehindAHungOne_EachTimesOutByItsOwnDeadline()
    {
        var deadlines = NodeCallDeadlines.For(_time, Timeout);
        var first = deadlines.Bound(new TaskCompletionSource<NodeResult>().Task, _node);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        var answered = new TaskCompletionSource<NodeResult>();
        var second = deadlines.Bound(answered.Task, _node);
        var third = deadlines.Bound(new TaskCompletionSource<NodeResult>().Task, _node);
        answered.SetResult(NodeResult.Granted);

        _time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(NodeReply.Failed, (await first.AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Reply);
        Assert.Equal(NodeReply.Granted, (await second).Reply);
        Assert.False(third.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal(NodeReply.Failed, (await third.AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Reply);
    }

    [Fact]
    public async Task Bound_AfterAQuietSpell_StillTimesOut()
    {
        // The timer disarms when nothing is in flight; a call after that must arm it again.
        var deadlines = NodeCallDeadlines.For(_time, Timeout);
        var early = deadlines.Bound(new TaskCompletionSource<NodeResult>().Task, _node);
        _time.Advance(Timeout);
        await early.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(10));

        var late = deadlines.Bound(new TaskCompletionSource<NodeResult>().Task, _node);
        _time.Advance(Timeout);

        Assert.Equal(NodeReply.Failed, (await late.AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Reply);
    }

    [Fact]
    public async Task Bound_TimedOutCallAnsweredLate_DoesNotAnswerTheCallThatReusesItsWait()
    {
        // Regression guard for the pooled waits: the late answer of a timed-out call must not
        // reach the wait of a later call.
        var deadlines = NodeCallDeadlines.For(_time, Timeout);
        var slow = new TaskCompletionSource<NodeResult>();
        var timedOut = deadlines.Bound(slow.Task, _node);
        _time.Advance(Timeout);
        Assert.Equal(NodeReply.Failed, (await timedOut.AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Reply);

        // Real time, not the fake clock's: the late answer's continuations run on the thread pool,
        // and a wrong delivery needs a moment to show; a correct pool never completes the wait.
        slow.SetResult(NodeResult.Granted);
        await Task.Delay(10);
        var later = new TaskCompletionSource<NodeResult>();
        var bounded = deadlines.Bound(later.Task, _node);
        await Task.Delay(10);

        Assert.False(bounded.IsCompleted);
        later.SetResult(NodeResult.Denied);
        Assert.Equal(NodeReply.Denied, (await bounded.AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Reply);
    }

    [Fact]
    public async Task Bound_ManyCallsInParallel_EachGetsItsOwnAnswer()
    {
        var deadlines = NodeCallDeadlines.For(_time, Timeout);
        var answers = await Task.WhenAll(Enumerable.Range(1, 2000).Select(async i =>
        {
            var call = new TaskCompletionSource<NodeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var bounded = deadlines.Bound(call.Task, _node);
            _ = Task.Run(() => call.SetResult(NodeResult.GrantedWith(i)));
            return (Expected: i, Got: (await bounded).Fence);
        }));

        Assert.All(answers, a => Assert.Equal(a.Expected, a.Got));
    }

    [Fact]
    public void For_SameClockAndTimeout_IsOneInstance()
    {
        Assert.Same(NodeCallDeadlines.For(_time, Timeout), NodeCallDeadlines.For(_time, Timeout));
        Assert.NotSame(NodeCallDeadlines.For(_time, Timeout), NodeCallDeadlines.For(_time, Timeout * 2));
        Assert.NotSame(NodeCallDeadlines.For(_time, Timeout), NodeCallDeadlines.For(new FakeTimeProvider(), Timeout));
    }

    /// <summary>
    /// Setting a timer can run due timers on the same thread (a fake clock's), so the deadlines set
    /// theirs with no lock held: the timer firing on another thread meanwhile goes through.
    /// </summary>
    [Fact]
    public async Task SettingTheTimer_HoldsNoLockTheTimerNeeds()
    {
        var time = new InlineTimersClock();
        var deadlines = NodeCallDeadlines.For(time, Timeout);
        var call = new TaskCompletionSource<NodeResult>();
        var blocked = true;
        time.OnTimerSet = () => blocked = !Task.Run(() => time.Advance(Timeout * 2)).Wait(TimeSpan.FromSeconds(5));

        var answer = await deadlines.Bound(call.Task, new FakeLockNode("node0", time));

        Assert.False(blocked);
        Assert.IsType<TimeoutException>(answer.Error);
    }
}
