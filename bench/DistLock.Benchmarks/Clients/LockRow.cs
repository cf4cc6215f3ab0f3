using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace DistLock.Benchmarks.Clients;

/// <summary>One row of the tables: a library with its settings, able to make a client per process.</summary>
public sealed record LockRow(string Name, string Key)
{
    public static readonly LockRow DistLock = new("DistLock", "distlock");
    public static readonly LockRow RedLockNet = new("RedLock.net (retry 50 ms)", "redlocknet");
    public static readonly LockRow RedLockNetTuned = new("RedLock.net tuned (retry 2 ms)", "redlocknet-tuned");
    public static readonly LockRow Madelson = new("DistributedLock.Redis (default 10-800 ms)", "madelson");
    public static readonly LockRow MadelsonTuned = new("DistributedLock.Redis tuned (1-5 ms)", "madelson-tuned");
    public static readonly LockRow Raw = new("raw SET NX PX + CAS delete (floor)", "raw");

    public static IReadOnlyList<LockRow> All { get; } = [DistLock, RedLockNet, RedLockNetTuned, Madelson, MadelsonTuned, Raw];

    public static LockRow ByKey(string key) => All.Single(r => r.Key == key);

    /// <summary>Connects a client of this row to the given nodes (one connection per node).</summary>
    public async Task<ILockClient> ConnectAsync(IReadOnlyList<string> endpoints)
    {
        if (this == DistLock)
        {
            return new DistLockClient(await RedisLockManager.ConnectAsync(endpoints));
        }

        var multiplexers = await Task.WhenAll(endpoints.Select(e => ConnectionMultiplexer.ConnectAsync(e)));
        return new OwningClient(Wrap(multiplexers), multiplexers);
    }

    /// <summary>A client of this row on connections the caller made (and disposes).</summary>
    public ILockClient Wrap(IReadOnlyList<ConnectionMultiplexer> multiplexers)
    {
        if (this == DistLock)
        {
            return new DistLockClient(new RedisLockManager(multiplexers));
        }

        if (this == RedLockNet || this == RedLockNetTuned)
        {
            var factory = RedLockFactory.Create(multiplexers.Select(m => new RedLockMultiplexer(m)).ToList());
            return new RedLockNetClient(factory, TimeSpan.FromMilliseconds(this == RedLockNet ? 50 : 2));
        }

        var databases = multiplexers.Select(m => m.GetDatabase()).ToList();
        if (this == Madelson || this == MadelsonTuned)
        {
            return new MadelsonClient(databases, this == Madelson ? null : (TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5)));
        }

        var server = multiplexers[0].GetServer(multiplexers[0].GetEndPoints()[0]);
        return new RawClient(databases[0], server.ScriptLoad(RawClient.CompareAndDelete));
    }

    /// <summary>Closes the connections it was made with after the client.</summary>
    private sealed class OwningClient(ILockClient inner, ConnectionMultiplexer[] multiplexers) : ILockClient
    {
        public Task<IAsyncDisposable?> AcquireAsync(string resource, TimeSpan wait) => inner.AcquireAsync(resource, wait);

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            foreach (var multiplexer in multiplexers)
            {
                await multiplexer.DisposeAsync();
            }
        }
    }
}
