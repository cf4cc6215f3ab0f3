using DistLock.RedisRig;

namespace DistLock.Cli.Tests;

/// <summary>
/// What the tests that stop a process (SIGSTOP) rely on: once <see cref="Signals.StopAsync"/> returns,
/// no thread of the process runs. kill alone returns while the stop is on its way, and a stopped
/// candidate once took a lock released right after the kill (LeaderTests' handover test).
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class StoppedToolTests(RedisFixture redis)
{
    [Fact]
    public async Task StopAsync_ReturnsOnceNoThreadOfTheToolCanRun()
    {
        var name = "stopped-" + Guid.NewGuid().ToString("N")[..8];
        using var tool = Tool.Start(["exec", "--resource", name, "--", "sleep", "60"], redis.Endpoint);
        await Until.TrueAsync(async () => (await redis.Locks.InspectAsync(name)).HolderId is not null, $"the tool holding '{name}'");

        // Twenty times: one look right after kill found threads still running in every one of 200 tries.
        for (var round = 0; round < 20; round++)
        {
            await Signals.StopAsync(tool.Process.Id);
            Assert.True(ProcessStates.IsHalted(tool.Process.Id), $"round {round}: a thread of the tool still runs");
            Signals.Send(tool.Process.Id, Signals.SigCont);
            await Task.Delay(10);
        }
    }
}
