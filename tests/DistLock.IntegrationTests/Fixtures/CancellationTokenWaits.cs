namespace DistLock.IntegrationTests.Fixtures;

public static class CancellationTokenWaits
{
    /// <summary>Completes when <paramref name="token"/> is cancelled; throws a TimeoutException if it is not within <paramref name="timeout"/>.</summary>
    public static Task WhenCancelledAsync(this CancellationToken token, TimeSpan timeout)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => fired.TrySetResult());
        return fired.Task.WaitAsync(timeout);
    }
}
