namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// <see cref="InMemoryLockManager"/> as a topology: every manager shares one in-process lock space
/// (<c>new InMemoryLockManager(root, options)</c>), as separate processes share a Redis, so the
/// semantic suites run on it as on Redis.
/// </summary>
public sealed class InMemoryTopology : ILockTopology, IAsyncLifetime
{
    // Holds the lock space for the collection's lifetime; tests only use managers that share it.
    private readonly InMemoryLockManager _root = new();

    public Task<ILockManager> ConnectAsync(LockManagerOptions? options = null) =>
        Task.FromResult<ILockManager>(new InMemoryLockManager(_root, options));

    public async Task<int> WaitersAsync(string resource) => (await _root.InspectAsync(resource)).Waiters;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _root.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class InMemoryCollection : ICollectionFixture<InMemoryTopology>
{
    public const string Name = "in memory";
}
