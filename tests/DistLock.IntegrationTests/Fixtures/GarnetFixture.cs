using System.Globalization;
using DistLock.RedisRig;
using Garnet;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// Microsoft Garnet, the Redis-compatible server, running inside the test process with Lua on and
/// in transaction mode (scripts atomic): the shared suites run on it as on redis-server.
/// </summary>
public sealed class GarnetFixture() : RedisNodesFixture(1)
{
    private GarnetServer? _server;

    protected override async Task<IReadOnlyList<string>> StartNodesAsync(int count)
    {
        var port = LoopbackPorts.Free();
        await ConsoleGate.Swap.WaitAsync();
        var stdout = Console.Out;
        Console.SetOut(TextWriter.Null); // Garnet prints a banner
        try
        {
            _server = new GarnetServer(
                ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--lua", "true", "--lua-transaction-mode", "true"]);
            _server.Start();
        }
        finally
        {
            Console.SetOut(stdout);
            ConsoleGate.Swap.Release();
        }

        return [$"127.0.0.1:{port}"];
    }

    protected override Task StopNodesAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class GarnetCollection : ICollectionFixture<GarnetFixture>
{
    public const string Name = "garnet";
}
