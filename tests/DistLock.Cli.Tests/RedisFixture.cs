using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>One redis-server for the CLI tests (each test uses its own lock names), and a manager to look at it.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public RedisLockManager Locks { get; private set; } = null!;

    public string Endpoint => Server.Endpoint;

    public async Task InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        // Generous: these calls only look, and the machine may be busy starting the tool's processes.
        Locks = await RedisLockManager.ConnectAsync(Server.Endpoint, new RedisLockManagerOptions { NodeTimeout = TimeSpan.FromSeconds(10) });
    }

    public async Task DisposeAsync()
    {
        await Locks.DisposeAsync();
        await Server.DisposeAsync();
    }

    /// <summary>Waits until someone holds <paramref name="resource"/>.</summary>
    public Task<LockInfo> WaitUntilHeldAsync(string resource) => WaitUntilHeldAsync(Locks, resource);

    /// <summary>Waits until someone holds <paramref name="resource"/>, as <paramref name="locks"/> sees it.</summary>
    public static async Task<LockInfo> WaitUntilHeldAsync(RedisLockManager locks, string resource, int seconds = 20)
    {
        var until = TimeProvider.System.GetTimestamp() + (seconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            var info = await locks.InspectAsync(resource);
            if (info.HolderId is not null && info.HandingOver == 0)
            {
                return info;
            }

            if (TimeProvider.System.GetTimestamp() > until)
            {
                throw new TimeoutException($"nobody took '{resource}'");
            }

            await Task.Delay(20);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
