using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Listens on a lock's release channel. Pub/sub delivers at most once: a message published while
/// the connection was down is gone, so a lost or restored connection is reported as a possible
/// release; the waiter then asks Redis, and learns whether the lock is free or Redis is down.
/// </summary>
internal sealed class RedisReleaseSubscription : INodeSubscription
{
    private readonly IConnectionMultiplexer _multiplexer;
    private readonly ISubscriber _subscriber;
    private readonly RedisChannel _channel;
    private readonly Action<RedisChannel, RedisValue> _onMessage;
    private readonly EventHandler<ConnectionFailedEventArgs> _onConnectionChange;

    public RedisReleaseSubscription(IConnectionMultiplexer multiplexer, RedisChannel channel, Action<string?> onReleased)
    {
        _multiplexer = multiplexer;
        _subscriber = multiplexer.GetSubscriber();
        _channel = channel;
        _onMessage = (_, value) => onReleased(value);
        _onConnectionChange = (_, _) => onReleased(null);
    }

    public bool IsActive => _subscriber.IsConnected(_channel);

    public async Task StartAsync()
    {
        _multiplexer.ConnectionRestored += _onConnectionChange;
        _multiplexer.ConnectionFailed += _onConnectionChange;
        try
        {
            await _subscriber.SubscribeAsync(_channel, _onMessage).ConfigureAwait(false);
        }
        catch
        {
            Detach();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Detach();
        try
        {
            await _subscriber.UnsubscribeAsync(_channel, _onMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The connection is gone, and the subscription with it.
        }
    }

    private void Detach()
    {
        _multiplexer.ConnectionRestored -= _onConnectionChange;
        _multiplexer.ConnectionFailed -= _onConnectionChange;
    }
}
