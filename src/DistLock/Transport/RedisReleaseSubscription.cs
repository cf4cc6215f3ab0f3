using DistLock.Algorithm;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Listens on a wait queue's channels (its wake channel and its line's). Pub/sub delivers at most
/// once: a message published while the connection was down is gone, so a lost or restored
/// connection is reported (as a null message on the first channel) as a possible wake; the waiter
/// then asks Redis, and learns whether the hold is free or Redis is down.
/// </summary>
internal sealed class RedisReleaseSubscription : INodeSubscription
{
    private readonly ConnectionWatch _connection;
    private readonly ISubscriber _subscriber;
    private readonly RedisChannel[] _channels;
    private readonly Action<RedisChannel, RedisValue>[] _handlers;
    private readonly Action _onConnectionChange;

    public RedisReleaseSubscription(IConnectionMultiplexer multiplexer, ConnectionWatch connection, RedisChannel[] channels, Action<int, string?> onMessage)
    {
        _connection = connection;
        _subscriber = multiplexer.GetSubscriber();
        _channels = channels;
        _handlers = [.. channels.Select((_, i) => (Action<RedisChannel, RedisValue>)((_, value) => onMessage(i, value)))];
        _onConnectionChange = () => onMessage(0, null);
    }

    public bool IsActive => _subscriber.IsConnected(_channels[0]);

    public async Task StartAsync()
    {
        _connection.Add(_onConnectionChange);
        try
        {
            await Task.WhenAll(_channels.Select((c, i) => _subscriber.SubscribeAsync(c, _handlers[i]))).ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _connection.Remove(_onConnectionChange);
        try
        {
            await Task.WhenAll(_channels.Select((c, i) => _subscriber.UnsubscribeAsync(c, _handlers[i]))).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The connection is gone, and the subscriptions with it.
        }
    }
}
