using DistLock.Algorithm;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>The lease's clock alone: no node, no keeper, no thread; the fake clock's timestamps go in by hand.</summary>
public sealed class LeaseClockTests
{
    private const double DriftFactor = 0.01;
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void New_DeadlineIsTheSendTimePlusTheTtlLessTheDrift()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt);

        Assert.Equal(LockState.Held, clock.State);
        Assert.Equal(sentAt + Ticks(Ttl - LockValidity.Drift(Ttl, DriftFactor)), clock.Deadline);
        Assert.Equal(sentAt + Ticks(Ttl / 3), clock.NextWake);
    }

    [Fact]
    public void StateAt_PastTheDeadline_IsLost_WithoutMovingTheState()
    {
        var clock = NewClock(_time.GetTimestamp());

        Assert.Equal(LockState.Held, clock.StateAt(clock.Deadline - 1));
        Assert.Equal(LockState.Lost, clock.StateAt(clock.Deadline));
        Assert.Equal(LockState.Held, clock.State);
    }

    [Fact]
    public void Due_BeforeAThirdOfTheTtl_AsksForNothing_ThenForOneExtension()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt);

        Assert.Null(clock.Due(sentAt + Ticks(Ttl / 3) - 1));
        Assert.Equal(Ttl, clock.Due(sentAt + Ticks(Ttl / 3)));

        // In flight: no second one, and the next wake is the deadline.
        Assert.Null(clock.Due(sentAt + Ticks(Ttl / 2)));
        Assert.Equal(clock.Deadline, clock.NextWake);
    }

    [Fact]
    public void Extended_MovesTheDeadlineAndTheNextExtension_FromItsSendTime()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt);
        var longer = TimeSpan.FromSeconds(30);
        var extendedAt = sentAt + Ticks(TimeSpan.FromSeconds(1));

        Assert.True(clock.Extended(longer, extendedAt));

        Assert.Equal(extendedAt + Ticks(longer - LockValidity.Drift(longer, DriftFactor)), clock.Deadline);
        Assert.Equal(extendedAt + Ticks(longer / 3), clock.NextWake);
        Assert.Equal(longer, clock.ExtensionTtl);
    }

    [Fact]
    public void Extended_SentBeforeTheLastOne_ChangesNothing()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt);
        Assert.True(clock.Extended(Ttl, sentAt + 100));
        var deadline = clock.Deadline;

        Assert.False(clock.Extended(TimeSpan.FromSeconds(30), sentAt + 50));

        Assert.Equal(deadline, clock.Deadline);
    }

    [Fact]
    public void Unanswered_ShorterTtl_BringsTheDeadlineEarlier_ALongerOneDoesNot()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt);
        var deadline = clock.Deadline;

        Assert.False(clock.Unanswered(TimeSpan.FromSeconds(30), sentAt + 10));
        Assert.Equal(deadline, clock.Deadline);

        Assert.True(clock.Unanswered(TimeSpan.FromSeconds(1), sentAt + 10));
        Assert.True(clock.Deadline < deadline);
    }

    [Fact]
    public void AutomaticExtensionUnanswered_IsRetriedAfterATenthOfTheTtl()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt);
        var due = sentAt + Ticks(Ttl / 3);
        Assert.NotNull(clock.Due(due));

        clock.AutomaticExtensionEnded(unanswered: true, Ttl, due);

        Assert.Equal(due + Ticks(Ttl / 10), clock.NextWake);
        Assert.Null(clock.Due(due + Ticks(Ttl / 10) - 1));
        Assert.NotNull(clock.Due(due + Ticks(Ttl / 10)));
    }

    [Fact]
    public void Due_PastMaxHoldTime_AsksForNoMoreExtensions_AndWakesOnlyAtTheDeadline()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt, maxHoldTime: TimeSpan.FromSeconds(2));
        Assert.True(clock.Extended(Ttl, sentAt + Ticks(TimeSpan.FromSeconds(1))));

        // A regression guard: a past next extension used to wake the lease again at once, forever.
        Assert.Null(clock.Due(sentAt + Ticks(TimeSpan.FromSeconds(2.5))));
        Assert.Equal(clock.Deadline, clock.NextWake);
    }

    [Fact]
    public void MaxHoldTimeOfTimeSpanMaxValue_DoesNotWrapAround()
    {
        var sentAt = _time.GetTimestamp();
        var clock = NewClock(sentAt, maxHoldTime: TimeSpan.MaxValue);

        Assert.Equal(Ttl, clock.Due(sentAt + Ticks(Ttl / 3)));
    }

    [Fact]
    public void WithoutAutoExtend_TheOnlyWakeIsTheDeadline()
    {
        var sentAt = _time.GetTimestamp();
        var clock = new LeaseClock(_time, DriftFactor, Ttl, sentAt, autoExtend: false, maxHoldTime: null);

        Assert.Equal(clock.Deadline, clock.NextWake);
        Assert.Null(clock.Due(sentAt + Ticks(Ttl / 2)));
    }

    [Fact]
    public void TryMove_OnlyFromTheGivenState_AndNeverHeldAgain()
    {
        var clock = NewClock(_time.GetTimestamp());

        Assert.True(clock.TryMove(LockState.Held, LockState.Released));
        Assert.False(clock.TryMove(LockState.Held, LockState.Lost));
        Assert.True(clock.TryMove(LockState.Released, LockState.Lost));
        Assert.Equal(LockState.Lost, clock.State);
        Assert.False(clock.Extended(Ttl, long.MaxValue / 2));
        Assert.Null(clock.Due(clock.Deadline - 1));
    }

    private LeaseClock NewClock(long sentAt, TimeSpan? maxHoldTime = null) =>
        new(_time, DriftFactor, Ttl, sentAt, autoExtend: true, maxHoldTime);

    private long Ticks(TimeSpan span) => _time.Ticks(span);
}
