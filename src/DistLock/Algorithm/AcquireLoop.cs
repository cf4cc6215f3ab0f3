using Microsoft.Extensions.Logging;

namespace DistLock.Algorithm;

/// <summary>
/// Attempts until the lock is taken, the wait timeout passes, the retries run out, or the caller
/// cancels. An outage ends the loop at once with a <see cref="LockBackendException"/>: waiting
/// out the timeout would make it look like contention.
/// </summary>
internal sealed class AcquireLoop
{
    private readonly QuorumLock _lock;
    private readonly TimeSpan _retryDelay;
    private readonly int _maxRetries;
    private readonly ILogger _logger;

    public AcquireLoop(QuorumLock quorumLock, TimeSpan retryDelay, int maxRetries, ILogger logger)
    {
        _lock = quorumLock;
        _retryDelay = retryDelay;
        _maxRetries = maxRetries;
        _logger = logger;
    }

    /// <param name="key">The lock key.</param>
    /// <param name="value">The owner's value.</param>
    /// <param name="ttl">The lock's time to live.</param>
    /// <param name="timeout">How long to keep trying; zero makes one attempt; infinite never gives up on time.</param>
    /// <param name="cancellationToken">Stops waiting; an attempt in flight is undone when it lands.</param>
    public async Task<AcquireOutcome> RunAsync(string key, string value, TimeSpan ttl, TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var time = _lock.Time;
        var start = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            var result = await AttemptAsync(key, value, ttl, cancellationToken).ConfigureAwait(false);
            var elapsed = time.GetElapsedTime(start);
            if (result.Acquired)
            {
                return new AcquireOutcome(result, attempt, elapsed);
            }

            if (result.BackendError is not null)
            {
                Log.AcquireBackendFailed(_logger, result.BackendError, key);
                throw _lock.BackendException("acquire", key, result.Round);
            }

            TimeSpan? remaining = timeout == Timeout.InfiniteTimeSpan ? null : timeout - elapsed;
            if ((_maxRetries >= 0 && attempt > _maxRetries) || remaining <= TimeSpan.Zero)
            {
                Log.AcquireGaveUp(_logger, key, attempt);
                return new AcquireOutcome(null, attempt, elapsed);
            }

            var delay = RetryTiming.NextDelay(_retryDelay, remaining, Random.Shared);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<AttemptResult> AttemptAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var attempt = _lock.TryAcquireOnceAsync(key, value, ttl);
        try
        {
            return await attempt.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = AbandonAsync(attempt, key, value);
            throw;
        }
    }

    /// <summary>The caller stopped waiting for an attempt in flight: if it lands, give the lock back.</summary>
    private async Task AbandonAsync(Task<AttemptResult> attempt, string key, string value)
    {
        try
        {
            var result = await attempt.ConfigureAwait(false);
            if (result.Acquired)
            {
                _lock.ReleaseLateGrants(result, key, value);
                await _lock.ReleaseAsync(key, value).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Log.CleanupFailed(_logger, ex, key, "all nodes");
        }
    }
}
