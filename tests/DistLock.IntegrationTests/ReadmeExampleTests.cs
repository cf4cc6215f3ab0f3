using DistLock.IntegrationTests.Fixtures;

namespace DistLock.IntegrationTests;

/// <summary>The README's example, compiled and run, so that it cannot go stale.</summary>
[Collection(SingleNodeCollection.Name)]
public sealed class ReadmeExampleTests(SingleNodeFixture nodes)
{
    [Fact]
    public async Task ReadmeExample_RunsAndReleases()
    {
        var output = new StringWriter();
        await ConsoleGate.Swap.WaitAsync();
        var original = Console.Out;
        Console.SetOut(output);
        try
        {
            await ReadmeExampleAsync(nodes.Servers[0].Endpoint);
        }
        finally
        {
            Console.SetOut(original);
            ConsoleGate.Swap.Release();
        }

        Assert.Contains("lock:{reports:daily} is ours until", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await nodes.CountHoldersAsync("lock:{reports:daily}"));
    }

    // Keep in step with README.md, "Example" (only the connection string differs).
    private static async Task ReadmeExampleAsync(string configuration)
    {
        await using var locks = await RedisLockManager.ConnectAsync(configuration);

        // Wait up to 10 s; if this process dies, Redis frees the lock after its TTL (30 s by default).
        await using (var handle = await locks.AcquireAsync("reports:daily", TimeSpan.FromSeconds(10)))
        {
            Console.WriteLine($"{handle.Key} is ours until {handle.ValidUntil:O}");
            // ... the critical section ...
        } // released here, and only if we still own it
    }
}
