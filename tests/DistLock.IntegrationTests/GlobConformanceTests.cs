using DistLock.IntegrationTests.Fixtures;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// ListAsync matches resource names with <see cref="RedisGlob"/>, which must read a pattern as Redis
/// does: every pattern here is given to SCAN MATCH on a real server over keys named after the texts,
/// and to the glob, and both must pick the same texts (ASCII, where Redis's bytes are characters).
/// </summary>
[Collection(SingleNodeCollection.Name)]
public sealed class GlobConformanceTests(SingleNodeFixture nodes)
{
    private static readonly string[] Texts =
        ["", "a", "b", "ab", "abc", "axc", "a*", "a?", "a\\", "]", "[", "-", "^", "{bank}17", "bank17", "{x}", "}{", "a-z", "z", "aaa", "a]b", "\\"];

    private static readonly string[] Patterns =
        ["*", "a*", "*b*", "a?c", "?", "??", "[ab]", "[^ab]", "[a-c]*", "[c-a]", "[]]", "[\\]]", "[abc", "[a-]", "[^]", "a\\*", "a\\", "\\[", "\\\\",
         "{bank}*", "?bank}*", "*17", "[{]*", "*[}]*", "a*a*a", "[\\^]", "[-]", "[a\\-z]", "*]*", "[[]"];

    [Fact]
    public async Task EveryPattern_PicksTheSameTextsAsRedisScan()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(nodes.Endpoints[0]);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var db = connection.GetDatabase();
        var prefix = $"glob-{Guid.NewGuid():N}:";
        foreach (var text in Texts)
        {
            await db.StringSetAsync(prefix + text, "1", TimeSpan.FromMinutes(1));
        }

        foreach (var pattern in Patterns)
        {
            var glob = new RedisGlob(pattern);
            var byRedis = new List<string>();
            await foreach (var key in server.KeysAsync(pattern: prefix + pattern, pageSize: 1000))
            {
                byRedis.Add(((string)key!)[prefix.Length..]);
            }

            Assert.True(
                byRedis.Order(StringComparer.Ordinal).SequenceEqual(Texts.Where(glob.IsMatch).Order(StringComparer.Ordinal)),
                $"'{pattern}': Redis picks [{string.Join(" ", byRedis.Order(StringComparer.Ordinal))}], the glob [{string.Join(" ", Texts.Where(glob.IsMatch).Order(StringComparer.Ordinal))}]");
        }
    }
}
