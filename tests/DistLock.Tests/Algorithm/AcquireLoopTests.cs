using DistLock.Algorithm;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

public sealed class AcquireLoopTests
{
    private const string Key = "lock:{r}";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeLockNode _node;

    public AcquireLoopTests() => _node = new FakeLockNode("node", _time);

    [Fact]
    public async Task Run_HeldForTheWholeTimeout_GivesUpAtTheTimeoutAfterRetryingAtRetryDelay()
    {
        _node.Seed(Key, "other", TimeSpan.FromMinutes(5));

        var outcome = await _time.AdvanceUntilDoneAsync(
            Loop(maxRetries: -1).RunAsync(Key, "me", Ttl, TimeSpan.FromSeconds(1), CancellationToken.None), TimeSpan.FromMilliseconds(5));

        Assert.Null(outcome.Winner);
        Assert.InRange(outcome.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.01));
        Assert.InRange(outcome.Attempts, 11, 22); // a pause of 50-100 ms between attempts, one more at the deadline
    }

    [Fact]
    public async Task Run_ReleasedAfter250ms_AcquiresOnALaterAttempt()
    {
        _node.Seed(Key, "other", TimeSpan.FromMilliseconds(250));

        var outcome = await _time.AdvanceUntilDoneAsync(
            Loop(maxRetries: -1).RunAsync(Key, "me", Ttl, Timeout.InfiniteTimeSpan, CancellationToken.None), TimeSpan.FromMilliseconds(5));

        Assert.NotNull(outcome.Winner);
        Assert.InRange(outcome.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(360));
        Assert.True(outcome.Attempts > 1);
    }

    [Fact]
    public async Task Run_MaxRetriesTwo_MakesExactlyThreeAttempts()
    {
        _node.Seed(Key, "other", TimeSpan.FromMinutes(5));

        var outcome = await _time.AdvanceUntilDoneAsync(
            Loop(maxRetries: 2).RunAsync(Key, "me", Ttl, Timeout.InfiniteTimeSpan, CancellationToken.None), TimeSpan.FromMilliseconds(5));

        Assert.Null(outcome.Winner);
        Assert.Equal(3, outcome.Attempts);
        Assert.Equal(3, _node.Commands);
    }

    [Fact]
    public async Task Run_ZeroTimeout_MakesOneAttempt()
    {
        _node.Seed(Key, "other", TimeSpan.FromMinutes(5));

        var outcome = await Loop(maxRetries: -1).RunAsync(Key, "me", Ttl, TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(1, outcome.Attempts);
        Assert.Equal(1, _node.Commands);
    }

    [Fact]
    public async Task Run_NodeDown_ThrowsLockBackendExceptionWithoutRetrying()
    {
        _node.Down = true;

        var ex = await Assert.ThrowsAsync<LockBackendException>(
            () => Loop(maxRetries: -1).RunAsync(Key, "me", Ttl, Timeout.InfiniteTimeSpan, CancellationToken.None));

        Assert.IsType<IOException>(ex.InnerException);
        Assert.Equal(1, _node.Commands);
    }

    [Fact]
    public async Task Run_CancelledWhileWaiting_ThrowsOperationCanceled()
    {
        _node.Seed(Key, "other", TimeSpan.FromMinutes(5));
        using var cancellation = new CancellationTokenSource();
        var running = Loop(maxRetries: -1).RunAsync(Key, "me", Ttl, Timeout.InfiniteTimeSpan, cancellation.Token);
        _time.Advance(TimeSpan.FromMilliseconds(20));

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    [Fact]
    public async Task Run_CancelledWhileAttemptInFlight_GivesTheLockBackWhenTheAttemptLands()
    {
        _node.Hung = true;
        using var cancellation = new CancellationTokenSource();
        var running = Loop(maxRetries: -1).RunAsync(Key, "me", Ttl, Timeout.InfiniteTimeSpan, cancellation.Token);

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        _node.Wake();

        for (var i = 0; i < 500 && _node.Holds(Key); i++)
        {
            await Task.Delay(10);
        }

        Assert.False(_node.Holds(Key));
    }

    private AcquireLoop Loop(int maxRetries) =>
        new(new QuorumLock([_node], TimeSpan.FromSeconds(1), 0.01, _time, NullLogger.Instance), RetryDelay, maxRetries, NullLogger.Instance);
}
