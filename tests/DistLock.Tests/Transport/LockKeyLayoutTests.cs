using DistLock.Transport;

namespace DistLock.Tests.Transport;

public sealed class LockKeyLayoutTests
{
    [Fact]
    public void LockKey_PlainResource_WrapsItInAHashTag() =>
        Assert.Equal("lock:{orders:42}", new LockKeyLayout("lock:").LockKey("orders:42"));

    [Theory]
    [InlineData("a}b", "a%7Db")]
    [InlineData("{x}", "%7Bx%7D")]
    [InlineData("50%", "50%25")]
    [InlineData("%7D", "%257D")]
    public void Escape_BracesAndPercent_AreEncoded(string resource, string escaped) =>
        Assert.Equal(escaped, LockKeyLayout.Escape(resource));

    [Fact]
    public void LockKey_DistinctResources_NeverShareAKey()
    {
        var layout = new LockKeyLayout("lock:");
        string[] resources = ["a}b", "a%7Db", "a", "a}", "{a}", "%7Ba%7D"];

        Assert.Equal(resources.Length, resources.Select(layout.LockKey).Distinct().Count());
    }

    [Fact]
    public void LockKey_AnyResource_HashTagIsTheWholeEscapedResource()
    {
        var key = new LockKeyLayout("p:").LockKey("x}y{z");
        var open = key.IndexOf('{', StringComparison.Ordinal);
        var close = key.IndexOf('}', open + 1);

        Assert.Equal("x%7Dy%7Bz", key[(open + 1)..close]);
        Assert.Equal(key.Length - 1, close);
    }

    [Theory]
    [InlineData("{orders}42", "lock:{orders}{42}")]
    [InlineData("{orders}", "lock:{orders}{}")]
    [InlineData("{a%}x}y", "lock:{a%25}{x%7Dy}")]
    [InlineData("{}x", "lock:{%7B%7Dx}")]
    [InlineData("{a{b}c", "lock:{%7Ba%7Bb%7Dc}")]
    public void LockKey_ANameThatStartsWithATag_HasThatTag(string resource, string key) =>
        Assert.Equal(key, new LockKeyLayout("lock:").LockKey(resource));

    [Theory]
    [InlineData("orders:42")]
    [InlineData("{orders}42")]
    [InlineData("{orders}")]
    [InlineData("{a%}x}{y")]
    [InlineData("{}x")]
    [InlineData("a}{b")]
    public void ResourceOf_TheLockKey_GivesTheNameBack(string resource)
    {
        var layout = new LockKeyLayout("lock:");
        Assert.Equal(resource, layout.ResourceOf(layout.LockKey(resource)));
    }

    [Fact]
    public void LockKey_NoNameHasAnotherNamesKey_NorItsLineOrCounter()
    {
        var layout = new LockKeyLayout("lock:");
        string[] resources = ["a", "{a}", "{a}b", "{a}{b}", "a}{b", "{a}:waiters", "a:waiters", "{a}b:fence", "{a}{}", "%7Ba%7D"];
        var keys = resources.Select(layout.LockKey).ToList();
        var derived = keys.SelectMany(k => new[] { LockKeyLayout.WaitersKey(k), LockKeyLayout.FenceKey(k), LockKeyLayout.ReadersKey(k), k + LockKeyLayout.SemaphoreSuffix });

        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Empty(keys.Intersect(derived));
        Assert.All(derived, k => Assert.Null(layout.ResourceOf(k)));
    }

    [Fact]
    public void ScanPattern_ATaggedPattern_MatchesTheTaggedKeys() =>
        Assert.Equal("lock:{orders}{*}", new LockKeyLayout("lock:").ScanPattern("{orders}*"));
}
