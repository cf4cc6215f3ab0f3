using StackExchange.Redis;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>Waits on the nodes of a Redlock test, each read over its own admin connection.</summary>
internal static class EveryNode
{
    /// <summary>
    /// Until every node holds <paramref name="value"/> at <paramref name="key"/>. A Redlock acquire
    /// returns at a majority: a test that needs the last node held too (so that a waiter is refused
    /// there, not granted it for a moment) waits for it.
    /// </summary>
    public static Task<bool> HoldsAsync(IEnumerable<ConnectionMultiplexer> admins, string key, string value) =>
        Eventually.TrueWithinAsync(Eventually.Patience, async () =>
            (await Task.WhenAll(admins.Select(a => a.GetDatabase().StringGetAsync(key)))).All(v => v == value));
}
