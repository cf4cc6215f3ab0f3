namespace DistLock.RedisRig;

/// <summary>Waits for a server-side condition (a cluster settling, a failover finishing).</summary>
public static class Poll
{
    /// <summary>
    /// Checks <paramref name="condition"/> every 250 ms until it holds; an
    /// <see cref="InvalidOperationException"/> from it counts as "not yet".
    /// </summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/>.</exception>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var started = TimeProvider.System.GetTimestamp();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition().ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (InvalidOperationException ex)
            {
                last = ex;
            }

            if (TimeProvider.System.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds} s for {what}.", last);
            }

            // Not faster: each check may start several redis-cli processes.
            await Task.Delay(250).ConfigureAwait(false);
        }
    }
}
