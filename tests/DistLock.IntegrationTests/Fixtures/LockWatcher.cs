namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// A manager of a Redis topology's own, kept for looking at locks as an operator does
/// (<see cref="ILockManager.InspectAsync"/>); connected on first use, since few suites look.
/// </summary>
internal sealed class LockWatcher(Func<Task<RedisLockManager>> connect) : IAsyncDisposable
{
    private readonly Lazy<Task<RedisLockManager>> _manager = new(connect);

    /// <summary>The longest line of waiters of <paramref name="resource"/>'s lock over the nodes.</summary>
    public async Task<int> WaitersAsync(string resource) => (await (await _manager.Value).InspectAsync(resource)).Waiters;

    public async ValueTask DisposeAsync()
    {
        if (_manager.IsValueCreated && _manager.Value.IsCompletedSuccessfully)
        {
            await (await _manager.Value).DisposeAsync();
        }
    }
}
