using DistLock.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistLock;

/// <summary>
/// Locks inside this process, with the semantics of <see cref="RedisLockManager"/>: TTL expiry,
/// extension and automatic extension, fencing tokens, waiting without polling, the lost signal,
/// inspection and operator actions, all timed by <see cref="LockManagerOptions.TimeProvider"/> (so a
/// fake clock drives them in tests). It runs the very scripts Redis runs, in a Lua interpreter.
/// Not distributed: two processes, or two instances in one process, do not see each other's
/// locks. For unit tests of code that takes an <see cref="ILockManager"/>, and for
/// single-process applications.
/// </summary>
/// <example>
/// <code>
/// ILockManager locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = fakeTime });
/// await using var handle = await locks.AcquireAsync("job:42");
/// </code>
/// </example>
public sealed class InMemoryLockManager : LockManager
{

    /// <summary>An empty lock space.</summary>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> has an invalid value (see <see cref="LockManagerOptions.Validate()"/>).</exception>
    public InMemoryLockManager(LockManagerOptions? options = null, ILogger? logger = null)
        : this(sharedNode: null, options, logger)
    {
    }

    /// <summary>
    /// A manager over the same locks as <paramref name="sharedWith"/>, as a second process would
    /// have: for tests of contention between two components. Its own options govern what it does
    /// (TTLs, retries, the handoff grace of the waiters it wakes); key expiry follows the clock of
    /// <paramref name="sharedWith"/>.
    /// </summary>
    /// <param name="sharedWith">The manager whose locks this one shares.</param>
    /// <param name="options">Settings of this manager; null uses the defaults.</param>
    /// <param name="logger">Where to log; null logs nothing.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> has an invalid value (see <see cref="LockManagerOptions.Validate()"/>).</exception>
    public InMemoryLockManager(InMemoryLockManager sharedWith, LockManagerOptions? options = null, ILogger? logger = null)
        : this((sharedWith ?? throw new ArgumentNullException(nameof(sharedWith))).Node, options, logger)
    {
    }

    private InMemoryLockManager(InMemoryLockNode? sharedNode, LockManagerOptions? options, ILogger? logger)
    {
        var settings = LockManagerOptions.ValidatedCopy(options, nameof(options));
        Node = sharedNode?.SharedWith(settings.HandoffGrace) ?? new InMemoryLockNode(settings.TimeProvider, settings.HandoffGrace);

        // One node in this process: it answers at once, so the node timeout only bounds what cannot happen.
        // The keys expire on the manager's own clock, so there is no drift between clocks to allow for;
        // the allowance is Redis's default all the same: the lost signal runs on the thread pool, and
        // with 2 ms alone it came after another manager had taken the expired lock (a review: 7 of 40
        // runs, up to 3.5 ms late), where RedisLockManager's came 5-9 ms before.
        Engine = new LockEngine(this, [Node], settings, nodeTimeout: TimeSpan.FromSeconds(1), clockDriftFactor: Algorithm.LockValidity.DefaultDriftFactor, "in-memory", logger ?? NullLogger.Instance);
        Inspector = new LockInspector([Node], Engine.Keys, TimeSpan.FromSeconds(1));
    }

    private InMemoryLockNode Node { get; }
}
