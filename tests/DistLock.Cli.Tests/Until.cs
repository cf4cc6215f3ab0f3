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
}
