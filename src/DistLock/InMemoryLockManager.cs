using DistLock.Algorithm;
using DistLock.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DistLock;

/// <summary>
/// Locks inside this process, with the semantics of <see cref="RedisLockManager"/>: TTL expiry,
/// extension and automatic extension, fencing tokens, waiting without polling, the lost signal,
/// all timed by <see cref="LockOptions.TimeProvider"/> (so a fake clock drives them in tests).
/// Not distributed: two processes, or two instances in one process, do not see each other's
/// locks. For unit tests of code that takes an <see cref="ILockManager"/>, and for
/// single-process applications.
/// </summary>
/// <example>
/// <code>
/// ILockManager locks = new InMemoryLockManager(new LockOptions { TimeProvider = fakeTime });
/// await using var handle = await locks.AcquireAsync("job:42");
/// </code>
/// </example>
public sealed class InMemoryLockManager : ILockManager, IDisposable
{
    private readonly LockEngine _engine;

    /// <summary>An empty lock space.</summary>
    /// <param name="options">Settings; null uses the defaults (<see cref="LockOptions.NodeTimeout"/> and
    /// <see cref="LockOptions.VersionCheck"/> do not apply).</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> has an invalid value (see <see cref="LockOptions.Validate()"/>).</exception>
    public InMemoryLockManager(LockOptions? options = null, ILogger? logger = null)
    {
        var settings = LockOptions.ValidatedCopy(options, nameof(options));
        Node = new InMemoryLockNode(settings.TimeProvider, settings.HandoffGrace);
        _engine = new LockEngine(this, [Node], settings, "in-memory", logger ?? NullLogger.Instance);
    }

    /// <summary>
    /// A manager over the same locks as <paramref name="sharedWith"/>, as a second process would
    /// have: for tests of contention between two components. Key expiry follows the clock of
    /// <paramref name="sharedWith"/>.
    /// </summary>
    /// <param name="sharedWith">The manager whose locks this one shares.</param>
    /// <param name="options">Settings of this manager; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> has an invalid value (see <see cref="LockOptions.Validate()"/>).</exception>
    public InMemoryLockManager(InMemoryLockManager sharedWith, LockOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(sharedWith);
        var settings = LockOptions.ValidatedCopy(options, nameof(options));
        Node = sharedWith.Node;
        _engine = new LockEngine(this, [Node], settings, "in-memory", logger ?? NullLogger.Instance);
    }

    internal LeaseKeeper Leases => _engine.Leases;

    private InMemoryLockNode Node { get; }

    /// <summary>The semaphore <paramref name="resource"/> as the shared node has it now (for tests; RedisLockManager has the public form).</summary>
    internal SemaphoreInfo InspectSemaphore(string resource)
    {
        var key = _engine.Keys.SemaphoreKey(resource);
        var reply = (RedisResult[])Node.EvaluateAsync(LockScript.InspectSemaphore, LockKeyLayout.SemaphoreKeys(key), []).Result!;
        var live = (RedisResult[])reply[1]!;
        var entries = Enumerable.Range(0, live.Length / 2).Select(i => ((string)live[2 * i]!, TimeSpan.FromMilliseconds((long)live[(2 * i) + 1])));
        return SemaphoreInfo.From(resource, key, reply[0].IsNull ? 0 : (int)reply[0], entries, (int)reply[2], reply[3].IsNull ? 0 : (long)reply[3]);
    }

    /// <summary>How many wait in the line of <paramref name="resource"/>'s lock now, as <see cref="RedisLockManager.InspectAsync"/> counts them (for tests).</summary>
    internal int WaitersInLine(string resource)
    {
        var key = _engine.Keys.LockKey(resource);
        return (int)((RedisResult[])Node.EvaluateAsync(LockScript.Inspect, LockKeyLayout.LockKeys(key), []).Result!)[3];
    }

    /// <inheritdoc />
    public Task<LockHandle> AcquireAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Exclusive, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Exclusive, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireReadAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireReadAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Read, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireReadAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireReadAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireReadAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Read, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireWriteAsync(string resource, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireWriteAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Write, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireWriteAsync(string resource, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireWriteAsync(LockRequest.WithTimeout(resource, timeout), cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireWriteAsync(LockRequest request, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Write, 0, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireSemaphoreAsync(string resource, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireSemaphoreAsync(LockRequest.WithTimeout(resource, timeout), maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle> AcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        _engine.AcquireAsync(request, LockMode.Semaphore, maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireSemaphoreAsync(string resource, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireSemaphoreAsync(LockRequest.WithTimeout(resource, timeout), maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<LockHandle?> TryAcquireSemaphoreAsync(LockRequest request, int maxCount, CancellationToken cancellationToken = default) =>
        _engine.TryAcquireAsync(request, LockMode.Semaphore, maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken = default) =>
        _engine.ReleaseAsync(handle, cancellationToken);

    /// <summary>Always available: there is one node, and it is this process.</summary>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>One node, answering.</returns>
    public Task<QuorumStatus> CheckNodesAsync(CancellationToken cancellationToken = default)
    {
        _engine.ThrowIfDisposed();
        return Task.FromResult(new QuorumStatus(1, 1));
    }

    /// <summary>Ends the calls still waiting for a lock (<see cref="ObjectDisposedException"/>), releases held locks when <see cref="LockOptions.AutoReleaseOnDispose"/> is set, else marks them lost. Never throws.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync() => await _engine.CloseAsync().ConfigureAwait(false);

    /// <summary>Blocking form of <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
