namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// A manager of a Redis topology's own, kept for looking at locks as an operator does
/// (<see cref="ILockManager.InspectAsync"/>); connected on first use, since few suites look.
/// </summary>
internal sealed class LockWatcher(Func<Task<RedisLockManager>> connect) : IAsyncDisposable
{
    private readonly Lazy<Task<RedisLockManager>> _manager = new(connect);

    /// <summary>
    /// The longest line of waiters of <paramref name="resource"/>'s lock over the nodes; -1 when a
    /// node did not answer in time. Tests poll this until a condition holds, so a look that timed out
    /// on a busy machine is a look to repeat, not a failure (CI once failed a test on one such timeout).
    /// </summary>
    public async Task<int> WaitersAsync(string resource)
    {
        try
        {
            return (await (await _manager.Value).InspectAsync(resource)).Waiters;
        }
        catch (LockBackendException)
        {
            return -1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_manager.IsValueCreated && _manager.Value.IsCompletedSuccessfully)
        {
            await (await _manager.Value).DisposeAsync();
        }
    }
}
