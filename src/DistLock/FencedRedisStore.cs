using DistLock.Transport;
using StackExchange.Redis;

namespace DistLock;

/// <summary>
/// The protected side of fencing, for resources kept in Redis: a write carries the writer's
/// fencing token (<see cref="LockHandle.GetFencingTokenAsync"/>) and is accepted only if no write with a higher token
/// was accepted before, atomically, in one script. A holder whose lock expired while it was
/// paused then cannot overwrite what the next holder wrote. Each key is a hash with the fields
/// <c>value</c> and <c>fence</c>. For SQL and other stores, docs/safety.md shows the same check.
/// </summary>
/// <example>
/// <code>
/// var store = new FencedRedisStore(redis.GetDatabase());
/// await using var handle = await locks.AcquireAsync("invoice:42");
/// if (!await store.TryWriteAsync("invoice:42:state", "paid", await handle.GetFencingTokenAsync()))
/// {
///     // A later holder has written already: this holder's lock was lost.
/// }
/// </code>
/// </example>
public sealed class FencedRedisStore
{
    private readonly IDatabaseAsync _database;

    /// <summary>A store on the given database (which may be another Redis than the locks').</summary>
    /// <param name="database">Where the protected values live.</param>
    public FencedRedisStore(IDatabaseAsync database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <summary>Writes <paramref name="value"/> unless a write with a higher token was accepted.</summary>
    /// <param name="key">The key of the protected value.</param>
    /// <param name="value">The new value.</param>
    /// <param name="fencingToken">The writer's fencing token (positive).</param>
    /// <param name="cancellationToken">Stops waiting for the answer (the write may still happen).</param>
    /// <returns>True when written; false when the token is lower than the last accepted one.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fencingToken"/> is not positive.</exception>
    public Task<bool> TryWriteAsync(RedisKey key, RedisValue value, long fencingToken, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fencingToken, 1, nameof(fencingToken));
        cancellationToken.ThrowIfCancellationRequested();
        return WriteAsync(key, value, fencingToken, cancellationToken);
    }

    private async Task<bool> WriteAsync(RedisKey key, RedisValue value, long fencingToken, CancellationToken cancellationToken)
    {
        var result = await LockScript.FencedWrite
            .EvaluateAsync(_database, [key], [value, fencingToken])
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <summary>Reads the value and the token of the write that stored it.</summary>
    /// <param name="key">The key of the protected value.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <returns>The value, or null when nothing was written.</returns>
    public async Task<FencedValue?> ReadAsync(RedisKey key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var fields = await _database.HashGetAsync(key, ["value", "fence"]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return fields[1].IsNull ? null : new FencedValue(fields[0], (long)fields[1]);
    }
}
