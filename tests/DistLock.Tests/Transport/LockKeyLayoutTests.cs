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
}
