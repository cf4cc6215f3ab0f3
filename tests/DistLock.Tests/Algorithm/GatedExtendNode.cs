using DistLock.Algorithm;
using DistLock.Transport;
using StackExchange.Redis;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// Wraps a node and holds its extensions until the test lets them through, newest first, so that
/// a node can run two extensions in the opposite order from the one they were sent in, or run one
/// after its caller gave up on it. Everything else goes straight to the wrapped node.
/// </summary>
internal sealed class GatedExtendNode(ScriptNode inner) : ScriptNode(inner.GraceMs, inner.IdleExpiryMs, inner.FenceResolution)
{
    private readonly List<(TaskCompletionSource<RedisResult> Answer, LockScript Script, RedisKey[] Keys, RedisValue[] Args)> _pending = [];

    public override string Name => inner.Name;

    /// <summary>Extensions sent and not let through yet.</summary>
    public int Pending
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Runs the extensions held now on the wrapped node, the newest first, and answers them.</summary>
    public async Task RunNewestFirstAsync()
    {
        List<(TaskCompletionSource<RedisResult> Answer, LockScript Script, RedisKey[] Keys, RedisValue[] Args)> held;
        lock (_pending)
        {
            held = [.. _pending];
            _pending.Clear();
        }

        for (var i = held.Count - 1; i >= 0; i--)
        {
            var (answer, script, keys, args) = held[i];
            try
            {
                answer.TrySetResult(await inner.EvaluateAsync(script, keys, args));
            }
            catch (Exception ex)
            {
                answer.TrySetException(ex);
            }
        }
    }

    public override Task<RedisResult> EvaluateAsync(LockScript script, RedisKey[] keys, RedisValue[] args)
    {
        if (!script.Name.StartsWith("extend", StringComparison.Ordinal))
        {
            return inner.EvaluateAsync(script, keys, args);
        }

        var answer = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pending)
        {
            _pending.Add((answer, script, keys, args));
        }

        return answer.Task;
    }

    public override Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl) => inner.SetIfAbsentAsync(key, value, ttl);

    public override Task<TimeSpan> PingAsync() => inner.PingAsync();

    public override IAsyncEnumerable<string> KeysAsync(string pattern, TimeSpan timeout, CancellationToken cancellationToken) =>
        inner.KeysAsync(pattern, timeout, cancellationToken);

    public override Task<INodeSubscription> SubscribeAsync(string[] channels, Action<int, string?> onMessage) => inner.SubscribeAsync(channels, onMessage);
}
