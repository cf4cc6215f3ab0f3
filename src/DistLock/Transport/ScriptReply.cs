using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>Replies as Redis gives them for what a Lua script returns, for the scripts' C# twins.</summary>
internal static class ScriptReply
{
    /// <summary>A Lua false or nil.</summary>
    public static RedisResult Nil { get; } = RedisResult.Create(RedisValue.Null);

    /// <summary>A Lua number (or boolean, as 1 or 0).</summary>
    public static RedisResult Integer(long value) => RedisResult.Create(value, ResultType.Integer);

    public static RedisResult Integer(bool value) => Integer(value ? 1 : 0);

    /// <summary>A Lua string, or nil.</summary>
    public static RedisResult Text(string? value) => value is null ? Nil : RedisResult.Create((RedisValue)value);

    /// <summary>A Lua table of numbers.</summary>
    public static RedisResult List(params long[] values) => List(values.Select(Integer).ToArray());

    /// <summary>A Lua table.</summary>
    public static RedisResult List(params RedisResult[] values) => RedisResult.Create(values);

    /// <summary>A score or a time in ms as a Lua script computes it: math.floor.</summary>
    public static long Ms(double value) => (long)Math.Floor(value);
}
