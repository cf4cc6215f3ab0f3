namespace DistLock.Benchmarks.Clients;

/// <summary>One lock library, as the harness drives it: acquire with a wait, release by disposing.</summary>
public interface ILockClient : IAsyncDisposable
{
    /// <summary>Waits up to <paramref name="wait"/>; null when the lock was not acquired.</summary>
    Task<IAsyncDisposable?> AcquireAsync(string resource, TimeSpan wait);
}
