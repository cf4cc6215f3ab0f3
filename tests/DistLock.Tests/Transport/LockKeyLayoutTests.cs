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

    [Theory]
    [InlineData("{orders}*", "lock:{orders}{*}")]
    [InlineData("{bank}4?", "lock:{bank}{4*}")]
    [InlineData("orders:*", "lock:{orders:*}")]
    [InlineData("orders:42", "lock:{orders:42}")]
    [InlineData("{bank}17", "lock:{bank}{17}")]
    [InlineData("a\\*b?", "lock:{a\\*b*}")]
    [InlineData("50%[0-9]", "lock:{50%25*}")]
    [InlineData("a}b*", "lock:{a%7Db*}")]
    [InlineData("{a{b}c*", "lock:{%7Ba%7Bb%7Dc*}")]
    [InlineData("*17", "lock:{*}")]
    [InlineData("?bank}*", "lock:{*}")]
    [InlineData("{ba*", "lock:{*}")]
    public void ScanPattern_KeepsWhatEveryMatchStartsWith_WhenThatDecidesTheTag(string pattern, string scan) =>
        Assert.Equal(scan, new LockKeyLayout("lock:").ScanPattern(new RedisGlob(pattern)));

    [Fact]
    public void ScanPattern_FindsTheKeyOfEveryNameThePatternMatches()
    {
        var layout = new LockKeyLayout("lock:");
        string[] names = ["bank", "bank17", "{bank}17", "{bank}", "{bank}{17}", "{ba}nk", "{b{a}nk", "a}b", "{}x", "50%", "b*?", "{bank}1}7"];
        string[] patterns = ["*", "bank*", "{bank}*", "?bank}*", "*17", "{ba*", "{bank}1?", "[{]*", "b\\*?", "{b*}*", "50%", "{}*", "*}*"];
        foreach (var pattern in patterns)
        {
            var glob = new RedisGlob(pattern);
            var scan = new RedisGlob(layout.ScanPattern(glob));
            Assert.All(names.Where(glob.IsMatch), name => Assert.True(scan.IsMatch(layout.LockKey(name)), $"{pattern} matches {name}, but its scan misses {layout.LockKey(name)}"));
        }
    }
}
