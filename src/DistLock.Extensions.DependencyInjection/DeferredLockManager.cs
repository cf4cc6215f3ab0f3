namespace DistLock;

/// <summary>
/// The <see cref="ILockManager"/> the container hands out: resolving it never touches the network.
/// Each call waits for the connection at most <see cref="LockOptions.NodeTimeout"/>, so with Redis
/// down the first lock call throws <see cref="LockBackendException"/>, as every later call does
/// until Redis is back.
/// </summary>
internal sealed class DeferredLockManager(DistLockConnection connection, TimeSpan patience) : ILockManager
{
    /// <summary>The Redis endpoints, for the health check's description.</summary>
    public string Endpoints => connection.Endpoints;

    public async Task<LockHandle> AcquireAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireAsync(resource, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle> AcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireAsync(resource, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle> AcquireReadAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireReadAsync(resource, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle> AcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireReadAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireReadAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireReadAsync(resource, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireReadAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle> AcquireWriteAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireWriteAsync(resource, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle> AcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireWriteAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireWriteAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireWriteAsync(resource, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireWriteAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle> AcquireSemaphoreAsync(string resource, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireSemaphoreAsync(resource, maxCount, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle> AcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).AcquireSemaphoreAsync(request, maxCount, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireSemaphoreAsync(string resource, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireSemaphoreAsync(resource, maxCount, timeout, cancellationToken).ConfigureAwait(false);

    public async Task<LockHandle?> TryAcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).TryAcquireSemaphoreAsync(request, maxCount, cancellationToken).ConfigureAwait(false);

    public async Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).ReleaseAsync(handle, cancellationToken).ConfigureAwait(false);

    public async Task<QuorumStatus> CheckNodesAsync(CancellationToken cancellationToken = default) =>
        await (await GetAsync(cancellationToken).ConfigureAwait(false)).CheckNodesAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The container disposes the connection; this view owns nothing.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<RedisLockManager> GetAsync(CancellationToken cancellationToken) => connection.GetAsync(patience, cancellationToken);
}
