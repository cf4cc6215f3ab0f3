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
    public void ReleaseAndExtend_CompareTheOwnerBeforeActing()
    {
        Assert.Contains("redis.call('GET', KEYS[1]) == ARGV[1]", LockScripts.Release.Text, StringComparison.Ordinal);
        Assert.Contains("redis.call('GET', KEYS[1]) == ARGV[1]", LockScripts.Extend.Text, StringComparison.Ordinal);
    }
}
