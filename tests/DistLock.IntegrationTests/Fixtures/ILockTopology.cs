namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// Where a suite's managers come from: one per topology of the matrix (TestMatrix.cs). Suites that
/// hold for any <see cref="ILockManager"/> take this; suites that look at what Redis holds (keys,
/// channels, the line of waiters) take a <see cref="RedisNodesFixture"/>, which is one too.
/// </summary>
public interface ILockTopology
{
    /// <summary>A manager of its own over the topology's locks, as a separate process would have.</summary>
    /// <param name="options">The manager's settings; null uses the defaults. A Redis topology takes
    /// them as <see cref="RedisLockManagerOptions"/> (see <see cref="RedisOptions.From"/>).</param>
    /// <returns>A new manager; the caller disposes it.</returns>
    Task<ILockManager> ConnectAsync(LockManagerOptions? options = null);

    /// <summary>
    /// How many waiters are in the line of <paramref name="resource"/>'s lock now (the longest line
    /// over the nodes), so that a test can act once a waiter is asleep in line instead of sleeping.
    /// </summary>
    /// <param name="resource">The resource, as given to the managers (default key prefix).</param>
    Task<int> WaitersAsync(string resource);
}
