namespace DistLock.IntegrationTests.Fixtures;

/// <summary>Polls a condition until it holds or a deadline passes: a wait on an outcome, not a sleep.</summary>
public static class Eventually
{
    /// <summary>
    /// The deadline for a condition that is certain to come (a waiter joins the line, a subscription
    /// is up, every node holds the key): only a failure waits this long, so it is sized for a loaded
    /// 2-core machine, where 5 s ran out. Not for a bound the test asserts.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static async Task<bool> TrueWithinAsync(TimeSpan deadline, Func<Task<bool>> condition)
    {
        var until = TimeProvider.System.GetTimestamp() + (long)(deadline.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (TimeProvider.System.GetTimestamp() > until)
            {
                return false;
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Retries <paramref name="attempt"/> (failures included) until it returns a value or the deadline passes.</summary>
    public static async Task<T> ResultWithinAsync<T>(TimeSpan deadline, Func<Task<T?>> attempt)
        where T : class
    {
        T? result = null;
        Exception? last = null;
        var done = await TrueWithinAsync(deadline, async () =>
        {
            try
            {
                result = await attempt();
                return result is not null;
            }
            catch (DistLockException ex)
            {
                last = ex;
                return false;
            }
        });
        return done ? result! : throw new TimeoutException("no result within the deadline", last);
    }
}
