namespace DistLock.Tests;

public sealed class HolderValueTests
{
    [Fact]
    public void Format_ThenParse_GivesTheLabelAndTimeBack()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_000_123);
        var value = HolderValue.Format("web-3 pid 42: a|b", at, new string('a', 32));

        Assert.Equal(("web-3 pid 42: a|b", at), HolderValue.Parse(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("worker-7")]
    [InlineData("x|notanumber|0123456789abcdef0123456789abcdef")]
    [InlineData("|123|0123456789abcdef0123456789abcdef")]
    [InlineData("x|123|short")]
    public void Parse_OtherValues_GivesNulls(string? value) => Assert.Equal(default, HolderValue.Parse(value));

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("tab\there")]
    public void HolderLabel_Unusable_IsRejectedNamingIt(string label) =>
        Assert.Equal("HolderLabel", Assert.ThrowsAny<ArgumentException>(() => new AcquireOptions { HolderLabel = label }.Validate()).ParamName);

    [Fact]
    public void HolderLabel_TooLong_IsRejected() =>
        Assert.Throws<ArgumentException>(() => new AcquireOptions { HolderLabel = new string('x', AcquireOptions.MaxHolderLabelLength + 1) }.Validate());

    [Fact]
    public async Task InMemory_InspectShowsTheLabelAndWhenItWasTaken()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_795_000_000));
        await using var locks = new InMemoryLockManager(new LockManagerOptions { TimeProvider = time, Defaults = { HolderLabel = "batch-7" } });
        await using var handle = await locks.AcquireAsync("r");

        Assert.StartsWith("batch-7|", handle.HolderId, StringComparison.Ordinal);
        var parsed = HolderValue.Parse(handle.HolderId);
        Assert.Equal("batch-7", parsed.Label);
        Assert.Equal(time.GetUtcNow(), parsed.Since);
    }
}
