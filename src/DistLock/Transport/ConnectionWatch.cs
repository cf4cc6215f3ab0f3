using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// One pair of handlers on a connection's failed and restored events for every subscription of a
/// node, registered while any subscription listens. Adding or removing an event handler copies the
/// connection's whole list of handlers: with a pair per subscription, each short-lived wait queue
/// paid for every other one alive (with 32 tasks taking pairs of 1,000 accounts, thousands).
/// </summary>
internal sealed class ConnectionWatch
{
    private readonly IConnectionMultiplexer _multiplexer;
    private readonly EventHandler<ConnectionFailedEventArgs> _onChange;
    private readonly HashSet<Action> _listeners = [];
    private readonly Lock _sync = new();

    public ConnectionWatch(IConnectionMultiplexer multiplexer)
    {
        _multiplexer = multiplexer;
        _onChange = (_, _) => Notify();
    }

    public void Add(Action listener)
    {
        lock (_sync)
        {
            if (_listeners.Add(listener) && _listeners.Count == 1)
            {
                _multiplexer.ConnectionFailed += _onChange;
                _multiplexer.ConnectionRestored += _onChange;
            }
        }
    }

    public void Remove(Action listener)
    {
        lock (_sync)
        {
            if (_listeners.Remove(listener) && _listeners.Count == 0)
            {
                _multiplexer.ConnectionFailed -= _onChange;
                _multiplexer.ConnectionRestored -= _onChange;
            }
        }
    }

    private void Notify()
    {
        Action[] listeners;
        lock (_sync)
        {
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            listener();
        }
    }
}
