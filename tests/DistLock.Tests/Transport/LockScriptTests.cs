using DistLock.Transport;

namespace DistLock.Tests.Transport;

public sealed class LockScriptTests
{
    private static readonly LockScript[] All =
    [
        LockScript.Acquire, LockScript.AcquireAll, LockScript.Release, LockScript.Extend, LockScript.Leave, LockScript.ForceRelease, LockScript.Inspect, LockScript.Fence,
        LockScript.AcquireRead, LockScript.ReleaseRead, LockScript.ExtendRead, LockScript.FenceRead,
        LockScript.AcquireSemaphore, LockScript.ReleaseSemaphore, LockScript.ExtendSemaphore, LockScript.LeaveSemaphore,
        LockScript.ForceReleaseSemaphore, LockScript.InspectSemaphore, LockScript.FenceSemaphore, LockScript.FencedWrite,
    ];

    [Fact]
    public void Scripts_AreEmbeddedAndStartWithACommentNamingKeysAndArgv()
    {
        foreach (var script in All)
        {
            Assert.StartsWith("--", script.Text, StringComparison.Ordinal);
            Assert.Contains("KEYS[1]", script.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("--@include", script.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EveryScript_CompilesAsLua_WithoutAServer()
    {
        var lua = Lua.LuaState.Create();
        Assert.All(All, script => Assert.NotNull(lua.Load(script.Text, script.Name)));
    }

    [Fact]
    public void ScriptsThatWalkTheLine_IncludeTheLineOnce()
    {
        foreach (var script in new[] { LockScript.Acquire, LockScript.AcquireAll, LockScript.Release, LockScript.Leave, LockScript.AcquireRead, LockScript.ReleaseRead, LockScript.AcquireSemaphore })
        {
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(script.Text, "local function hand_over"));
        }
    }

    [Fact]
    public void ReleaseAndExtend_CompareTheOwnerBeforeActing()
    {
        var release = LockScript.Release.Text;
        Assert.True(
            release.IndexOf("redis.call('GET', LOCK) ~= ARGV[4]", StringComparison.Ordinal) < release.IndexOf("redis.call('DEL'", StringComparison.Ordinal),
            "release compares the owner before deleting");
        var extend = LockScript.Extend.Text;
        Assert.True(
            extend.IndexOf("redis.call('GET', KEYS[i]) ~= ARGV[1]", StringComparison.Ordinal) < extend.IndexOf("redis.call('PEXPIRE'", StringComparison.Ordinal),
            "extend compares the owner of every lock before extending any");
    }
}
