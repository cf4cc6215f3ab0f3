using System.Runtime.CompilerServices;

namespace DistLock;

/// <summary>
/// The <see cref="ILockManager"/> the container hands out: resolving it never touches the network.
/// Each call waits for the connection at most <see cref="RedisLockManagerOptions.NodeTimeout"/>, so
/// with Redis down the first lock call throws <see cref="LockBackendException"/>, as every later
/// call does until Redis is back; then it is the connected <see cref="RedisLockManager"/>'s call.
/// </summary>
internal sealed class DeferredLockManager(DistLockConnection connection, TimeSpan patience) : ILockManager
{
    /// <summary>The Redis endpoints, for the health check's description.</summary>
    public string Endpoints => connection.Endpoints;

    public Task<LockHandle> AcquireAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Call(m => m.AcquireAsync(resource, timeout, cancellationToken), cancellationToken);

    public Task<LockHandle> AcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Call(m => m.AcquireAsync(request, cancellationToken), cancellationToken);

    public Task<LockHandle?> TryAcquireAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Call(m => m.TryAcquireAsync(resource, timeout, cancellationToken), cancellationToken);

    public Task<LockHandle?> TryAcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Call(m => m.TryAcquireAsync(request, cancellationToken), cancellationToken);

    public Task<LockHandle> AcquireReadAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Call(m => m.AcquireReadAsync(resource, timeout, cancellationToken), cancellationToken);

    public Task<LockHandle> AcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Call(m => m.AcquireReadAsync(request, cancellationToken), cancellationToken);

    public Task<LockHandle?> TryAcquireReadAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Call(m => m.TryAcquireReadAsync(resource, timeout, cancellationToken), cancellationToken);

    public Task<LockHandle?> TryAcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Call(m => m.TryAcquireReadAsync(request, cancellationToken), cancellationToken);

    public Task<LockHandle> AcquireSemaphoreAsync(string resource, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Call(m => m.AcquireSemaphoreAsync(resource, maxCount, timeout, cancellationToken), cancellationToken);

    public Task<LockHandle> AcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        Call(m => m.AcquireSemaphoreAsync(request, maxCount, cancellationToken), cancellationToken);

    public Task<LockHandle?> TryAcquireSemaphoreAsync(string resource, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Call(m => m.TryAcquireSemaphoreAsync(resource, maxCount, timeout, cancellationToken), cancellationToken);

    public Task<LockHandle?> TryAcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        Call(m => m.TryAcquireSemaphoreAsync(request, maxCount, cancellationToken), cancellationToken);

    public Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken = default) =>
        Call(m => m.ReleaseAsync(handle, cancellationToken), cancellationToken);

    public Task<QuorumStatus> CheckNodesAsync(CancellationToken cancellationToken = default) =>
        Call(m => m.CheckNodesAsync(cancellationToken), cancellationToken);

    public Task<LockInfo> InspectAsync(string resource, CancellationToken cancellationToken = default) =>
        Call(m => m.InspectAsync(resource, cancellationToken), cancellationToken);

    public Task<SemaphoreInfo> InspectSemaphoreAsync(string resource, CancellationToken cancellationToken = default) =>
        Call(m => m.InspectSemaphoreAsync(resource, cancellationToken), cancellationToken);

    public async IAsyncEnumerable<LockInfo> ListAsync(string pattern = "*", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var manager = await connection.GetAsync(patience, cancellationToken).ConfigureAwait(false);
        await foreach (var info in manager.ListAsync(pattern, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    public Task<bool> ForceReleaseAsync(string resource, CancellationToken cancellationToken = default) =>
        Call(m => m.ForceReleaseAsync(resource, cancellationToken), cancellationToken);

    public Task<int> ForceReleaseSemaphoreAsync(string resource, string? holderId = null, CancellationToken cancellationToken = default) =>
        Call(m => m.ForceReleaseSemaphoreAsync(resource, holderId, cancellationToken), cancellationToken);

    /// <summary>The container disposes the connection; this view owns nothing.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<T> Call<T>(Func<RedisLockManager, Task<T>> call, CancellationToken cancellationToken) =>
        await call(await connection.GetAsync(patience, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
}
