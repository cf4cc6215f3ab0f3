namespace DistLock.Cli.Tests;

/// <summary>Waits for what a running tool prints, polling its captured output.</summary>
internal static class Until
{
    /// <summary>Waits up to 10 s for <paramref name="condition"/>, then asserts it.</summary>
    public static async Task TrueAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(condition());
    }

    /// <summary>Waits up to <paramref name="seconds"/> for an asynchronous <paramref name="condition"/> (one that asks Redis), then asserts it.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var until = TimeProvider.System.GetTimestamp() + (seconds * TimeProvider.System.TimestampFrequency);
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetTimestamp() < until, $"not within {seconds} s: {what}");
            await Task.Delay(50);
        }
    }
}
