namespace DistLock.Tests;

/// <summary>The glob as Redis reads it; GlobConformanceTests (integration) holds it against a real server.</summary>
public sealed class RedisGlobTests
{
    [Theory]
    [InlineData("*", "", true)]
    [InlineData("*", "{bank}17", true)]
    [InlineData("{bank}*", "{bank}17", true)]
    [InlineData("?bank}*", "{bank}17", true)]
    [InlineData("*17", "{bank}17", true)]
    [InlineData("bank*", "{bank}17", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("*a*a*a*", "aaa", true)]
    [InlineData("*a*a*a*", "aa", false)]
    [InlineData("[abc]x", "bx", true)]
    [InlineData("[^abc]x", "bx", false)]
    [InlineData("[^abc]x", "dx", true)]
    [InlineData("[a-c]", "b", true)]
    [InlineData("[c-a]", "b", true)]
    [InlineData("[a-c]", "d", false)]
    [InlineData("[\\]]", "]", true)]
    [InlineData("[]]", "]", false)]
    [InlineData("[abc", "b", true)]
    [InlineData("[a-]", "_", true)] // as Redis: the range runs to ']' (swapped), and the set is never closed
    [InlineData("[a-]", "-", false)]
    [InlineData("a\\*", "a*", true)]
    [InlineData("a\\*", "ab", false)]
    [InlineData("a\\", "a\\", true)]
    [InlineData("\\[x]", "[x]", true)]
    [InlineData("?", "é", true)]
    [InlineData("?", "\ud83d\udd12", true)]
    public void IsMatch_ReadsThePatternAsRedisDoes(string pattern, string text, bool matches) =>
        Assert.Equal(matches, new RedisGlob(pattern).IsMatch(text));

    [Theory]
    [InlineData("orders:42", "orders:42", true)]
    [InlineData("orders:*", "orders:", false)]
    [InlineData("a\\*b?", "a*b", false)]
    [InlineData("*x", "", false)]
    [InlineData("{bank}[0-9]", "{bank}", false)]
    public void LiteralPrefix_IsWhatEveryMatchStartsWith(string pattern, string prefix, bool literal)
    {
        var glob = new RedisGlob(pattern);
        Assert.Equal(prefix, glob.LiteralPrefix);
        Assert.Equal(literal, glob.IsLiteral);
    }
}
