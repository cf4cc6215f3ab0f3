using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>One redis-server for the CLI tests (each test uses its own lock names), and a manager to look at it.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public RedisLockManager Locks { get; private set; } = null!;

    /// <summary>
    /// The server as the tool is given it: with a connect timeout of 10 s instead of the tool's 1 s
    /// default, which a busy 2-core machine was seen to exceed ("cannot reach Redis at ... (not
    /// answering)", exit 69). Tests of that default use servers of their own.
    /// </summary>
    public string Endpoint => Server.Endpoint + ToolTarget.Patient;

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

/// <summary>What tests add to a configuration string given to the tool when they test anything but its connect timeout.</summary>
public static class ToolTarget
{
    /// <summary>A connect timeout a busy machine cannot eat: the tool's default is 1 s (RedisTargets.ConnectTimeout).</summary>
    public const string Patient = ",connectTimeout=10000";
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
