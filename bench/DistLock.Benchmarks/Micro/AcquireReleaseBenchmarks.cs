using BenchmarkDotNet.Attributes;
using DistLock.Benchmarks.Clients;
using DistLock.RedisRig;

namespace DistLock.Benchmarks.Micro;

/// <summary>One uncontended acquire + release, DistLock against the raw floor, on a local redis-server.</summary>
[MemoryDiagnoser]
public class AcquireReleaseBenchmarks
{
    private RedisServer? _server;
    private ILockClient? _distLock;
    private ILockClient? _raw;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await RedisServer.StartAsync();
        _distLock = await LockRow.DistLock.ConnectAsync([_server.Endpoint]);
        _raw = await LockRow.Raw.ConnectAsync([_server.Endpoint]);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _distLock!.DisposeAsync();
        await _raw!.DisposeAsync();
        await _server!.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public async Task RawSetNxPx() => await (await _raw!.AcquireAsync("micro", TimeSpan.FromSeconds(1)))!.DisposeAsync();

    [Benchmark]
    public async Task DistLockAcquireRelease() => await (await _distLock!.AcquireAsync("micro", TimeSpan.FromSeconds(1)))!.DisposeAsync();
}
