namespace DistLock.IntegrationTests.Fixtures;

/// <summary>Polls a condition until it holds or a deadline passes: a wait on an outcome, not a sleep.</summary>
public static class Eventually
{
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
}
