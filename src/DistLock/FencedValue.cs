using StackExchange.Redis;

namespace DistLock;

/// <summary>A value kept by a <see cref="FencedRedisStore"/>, with the fencing token of its last accepted write.</summary>
/// <param name="Value">The stored value.</param>
/// <param name="FencingToken">The token of the write that stored it.</param>
public readonly record struct FencedValue(RedisValue Value, long FencingToken);
