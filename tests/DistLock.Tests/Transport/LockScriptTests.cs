using DistLock.Transport;

namespace DistLock.Tests.Transport;

public sealed class LockScriptTests
{
    [Fact]
    public void Scripts_AreEmbeddedAndStartWithACommentNamingKeysAndArgv()
    {
        foreach (var script in new[] { LockScripts.Acquire, LockScripts.Extend, LockScripts.Release })
        {
            Assert.StartsWith("--", script.Text, StringComparison.Ordinal);
            Assert.Contains("KEYS[1]", script.Text, StringComparison.Ordinal);
            Assert.Contains("ARGV[1]", script.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ReleaseAndPassOn_IncludeTheSharedWakeLoopOnce()
    {
        foreach (var script in new[] { LockScripts.Release, LockScripts.PassOn })
        {
            Assert.DoesNotContain("--@include", script.Text, StringComparison.Ordinal);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(script.Text, "local function wake_next"));
            Assert.Contains("wake_next()", script.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ReleaseAndExtend_CompareTheOwnerBeforeActing()
    {
        var release = LockScripts.Release.Text;
        Assert.True(
            release.IndexOf("redis.call('GET', KEYS[1]) ~= ARGV[1]", StringComparison.Ordinal) < release.IndexOf("redis.call('DEL'", StringComparison.Ordinal),
            "release compares the owner before deleting");
        Assert.Contains("redis.call('GET', KEYS[1]) == ARGV[1]", LockScripts.Extend.Text, StringComparison.Ordinal);
    }
}
