using DistLock.Algorithm;
using DistLock.Transport;

namespace DistLock;

/// <summary>
/// What <see cref="RedisLockManager"/> and <see cref="InMemoryLockManager"/> share: every member
/// of <see cref="ILockManager"/>, implemented once, so the two behave alike and differ only in
/// where the locks are kept. Not for deriving outside DistLock.
/// </summary>
public abstract class LockManager : ILockManager, IDisposable
{
    private protected LockManager()
    {
    }

    /// <summary>Acquisition, leases, waiting and metrics; set by the derived constructor.</summary>
    private protected LockEngine Engine { get; set; } = null!;

    /// <summary>Inspection and operator actions over the same nodes; set by the derived constructor.</summary>
    private protected LockInspector Inspector { get; set; } = null!;

    internal LockManagerOptions Options => Engine.Options;

    internal RedlockProtocol Protocol => Engine.Protocol;

    internal WaitQueues Waiters => Engine.Waiters;

    internal LeaseKeeper Leases => Engine.Leases;

    /// <inheritdoc />
    public Task<LockHandle> AcquireAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Engine.AcquireAsync(request, LockMode.Exclusive, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Engine.TryAcquireAsync(request, LockMode.Exclusive, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireReadAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireReadAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Engine.AcquireAsync(request, LockMode.Read, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireReadAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireReadAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        Engine.TryAcquireAsync(request, LockMode.Read, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireSemaphoreAsync(string resource, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireSemaphoreAsync(LockRequest.WithTimeout(resource, timeout), maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        Engine.AcquireAsync(request, LockMode.Semaphore, maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireSemaphoreAsync(string resource, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireSemaphoreAsync(LockRequest.WithTimeout(resource, timeout), maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        Engine.TryAcquireAsync(request, LockMode.Semaphore, maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken = default) =>
        Engine.ReleaseAsync(handle, cancellationToken);

    /// <inheritdoc />
    public Task<QuorumStatus> CheckNodesAsync(CancellationToken cancellationToken = default)
    {
        Engine.ThrowIfDisposed();
        return Inspector.PingAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task<LockInfo> InspectAsync(string resource, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        Engine.ThrowIfDisposed();
        return Inspector.InspectAsync(resource, cancellationToken);
    }

    /// <inheritdoc />
    public Task<SemaphoreInfo> InspectSemaphoreAsync(string resource, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        Engine.ThrowIfDisposed();
        return Inspector.InspectSemaphoreAsync(resource, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<LockInfo> ListAsync(string pattern = "*", CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        Engine.ThrowIfDisposed();
        return Inspector.ListAsync(pattern, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> ForceReleaseAsync(string resource, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        Engine.ThrowIfDisposed();
        return Inspector.ForceReleaseAsync(resource, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> ForceReleaseSemaphoreAsync(string resource, string? holderId = null, CancellationToken cancellationToken = default)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        if (holderId is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(holderId);
            if (holderId.StartsWith(LockKeyLayout.ReservedPrefix, StringComparison.Ordinal))
            {
                // No holder's id starts so (LockRequest.HolderId refuses it): it names a permit being handed to a woken waiter.
                throw new ArgumentException($"A holder id never starts with '{LockKeyLayout.ReservedPrefix}': that is a permit being handed to a waiter, which a force release leaves alone.", nameof(holderId));
            }
        }

        Engine.ThrowIfDisposed();
        return Inspector.ForceReleaseSemaphoreAsync(resource, holderId, cancellationToken);
    }

    /// <summary>
    /// Stops handing out locks (calls still waiting for one end with <see cref="ObjectDisposedException"/>,
    /// after they left their lines and gave back what they kept: disposal waits for that, at most
    /// twice the node timeout), releases the ones still held when <see cref="LockManagerOptions.AutoReleaseOnDispose"/> is set
    /// (else marks them lost), and closes what the manager opened itself. Never throws.
    /// </summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (await Engine.CloseAsync().ConfigureAwait(false))
        {
            await OnClosedAsync().ConfigureAwait(false);
        }

    }

    /// <summary>Blocking form of <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Closes what the derived manager opened (its connections), once, after the engine closed.</summary>
    private protected virtual ValueTask OnClosedAsync() => ValueTask.CompletedTask;
}
