using DistLock.Transport;
using Microsoft.Extensions.Time.Testing;

namespace DistLock.Tests.Algorithm;

/// <summary>
/// An in-memory lock node on a fake clock, for testing the quorum arithmetic and timing without
/// a network. It is not a stand-in for Redis: the Redis behaviour is covered by the integration tests.
/// </summary>
internal sealed class FakeLockNode(string name, FakeTimeProvider time) : ILockNode
{
    private readonly Dictionary<string, (string Value, DateTimeOffset Expires)> _keys = [];
    private TaskCompletionSource _hang = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    /// <summary>Fails every command at once, like a refused connection.</summary>
    public bool Down { get; set; }

    /// <summary>Holds every command until <see cref="Wake"/>, like a paused server.</summary>
    public bool Hung { get; set; }

    /// <summary>Answers after this much (fake) time.</summary>
    public TimeSpan Latency { get; set; }

    public int Commands { get; private set; }

    public void EnsureCompatible()
    {
    }

    public Task<NodeResult> TryAcquireAsync(string key, string value, TimeSpan ttl) => Run(() =>
    {
        if (Current(key) is { } held)
        {
            return NodeResult.HeldFor(held.Expires - time.GetUtcNow());
        }

        _keys[key] = (value, time.GetUtcNow() + ttl);
        return NodeResult.Granted;
    });

    public Task<NodeResult> ExtendAsync(string key, string value, TimeSpan ttl) => Run(() =>
    {
        if (Current(key)?.Value != value)
        {
            return NodeResult.Denied;
        }

        _keys[key] = (value, time.GetUtcNow() + ttl);
        return NodeResult.Granted;
    });

    public Task<NodeResult> ReleaseAsync(string key, string value) => Run(() =>
        Current(key)?.Value == value && _keys.Remove(key) ? NodeResult.Granted : NodeResult.Denied);

    public bool Holds(string key) => Current(key) is not null;

    public void Wake()
    {
        Hung = false;
        _hang.TrySetResult();
        _hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Sets a key as another owner would have.</summary>
    public void Seed(string key, string value, TimeSpan ttl) => _keys[key] = (value, time.GetUtcNow() + ttl);

    private (string Value, DateTimeOffset Expires)? Current(string key)
    {
        if (_keys.TryGetValue(key, out var entry) && entry.Expires > time.GetUtcNow())
        {
            return entry;
        }

        _keys.Remove(key);
        return null;
    }

    private Task<NodeResult> Run(Func<NodeResult> command)
    {
        Commands++;
        if (Down)
        {
            return Task.FromException<NodeResult>(new IOException($"{Name} is down"));
        }

        if (Hung)
        {
            return _hang.Task.ContinueWith(_ => Locked(command), TaskScheduler.Default);
        }

        if (Latency > TimeSpan.Zero)
        {
            return Task.Delay(Latency, time).ContinueWith(_ => Locked(command), TaskScheduler.Default);
        }

        return Task.FromResult(Locked(command));
    }

    private NodeResult Locked(Func<NodeResult> command)
    {
        lock (_keys)
        {
            return command();
        }
    }
}
