namespace DistLock.Tests;

public sealed class LockRequestTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \t")]
    public void Constructor_BlankResource_ThrowsArgumentException(string? resource)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new LockRequest(resource!));
        Assert.Equal("resource", ex.ParamName);
    }

    [Fact]
    public void LoneSurrogates_InResourceOrHolderId_AreRejected_SinceUtf8WouldMergeThem()
    {
        // Built here, not in InlineData: the test runner's serialization would replace them.
        foreach (var text in new[] { "\ud800x", "x\udc00", "a\udc00\ud800b" })
        {
            Assert.Equal("resource", Assert.ThrowsAny<ArgumentException>(() => new LockRequest(text)).ParamName);
            Assert.Equal("HolderId", Assert.ThrowsAny<ArgumentException>(() => new LockRequest("r") { HolderId = text }).ParamName);
        }
    }

    [Fact]
    public void Constructor_SetWithANullEntry_SaysAnEntryIsNull_NotThatTheSetIs()
    {
        var ex = Assert.Throws<ArgumentException>("resources", () => new LockRequest(["a", null!, "b"]));
        Assert.Contains("entry 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SurrogatePairs_AreFine() => Assert.Equal("\ud83d\udd12", new LockRequest("\ud83d\udd12") { HolderId = "\ud83d\udd12" }.Resource);

    [Fact]
    public void Constructor_ResourceOf1024Bytes_IsAcceptedAndOneMoreIsNot()
    {
        Assert.Equal(1024, new LockRequest(new string('a', 1024)).Resource.Length);
        Assert.Throws<ArgumentException>("resource", () => new LockRequest(new string('a', 1025)));
        Assert.Throws<ArgumentException>("resource", () => new LockRequest(new string('é', 513))); // 1026 bytes in UTF-8
    }

    [Fact]
    public void Ttl_OutOfRange_ThrowsNamingTtl()
    {
        Assert.Throws<ArgumentOutOfRangeException>("Ttl", () => new LockRequest("r") { Ttl = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>("Ttl", () => new LockRequest("r") { Ttl = TimeSpan.FromDays(8) });
    }

    [Fact]
    public void HolderId_EmptyBlankTooLongOrReserved_ThrowsNamingHolderId()
    {
        Assert.Throws<ArgumentException>("HolderId", () => new LockRequest("r") { HolderId = string.Empty });
        Assert.Throws<ArgumentException>("HolderId", () => new LockRequest("r") { HolderId = "  " });
        Assert.Throws<ArgumentException>("HolderId", () => new LockRequest("r") { HolderId = new string('v', LockRequest.MaxHolderIdBytes + 1) });
        Assert.Throws<ArgumentException>("HolderId", () => new LockRequest("r") { HolderId = "reserved:abc" });
    }

    [Fact]
    public void Timeout_Negative_ThrowsNamingTimeout() =>
        Assert.Throws<ArgumentOutOfRangeException>("Timeout", () => new LockRequest("r") { Timeout = TimeSpan.FromSeconds(-1) });

    [Fact]
    public void MaxHoldTime_NotPositive_ThrowsNamingMaxHoldTime()
    {
        Assert.Throws<ArgumentOutOfRangeException>("MaxHoldTime", () => new LockRequest("r") { MaxHoldTime = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>("MaxHoldTime", () => new LockRequest("r") { MaxHoldTime = TimeSpan.FromSeconds(-1) });
    }

    public static TheoryData<long> Durations => new()
    {
        -TimeSpan.TicksPerMillisecond, -1, 0, 1, TimeSpan.FromMilliseconds(9.999).Ticks, AcquireOptions.MinTtl.Ticks,
        TimeSpan.FromSeconds(30).Ticks, AcquireOptions.MaxTtl.Ticks, AcquireOptions.MaxTtl.Ticks + 1, TimeSpan.MaxValue.Ticks,
    };

    [Theory]
    [MemberData(nameof(Durations))]
    public void PerLockSettings_FollowTheOptionsRules_WithTheSameWords(long ticks)
    {
        // One rule each: a request accepts a TTL, a timeout or a hold time exactly when AcquireOptions
        // would, and says why in the same words.
        var value = TimeSpan.FromTicks(ticks);
        Same(nameof(LockRequest.Ttl), () => new LockRequest("r") { Ttl = value }, new AcquireOptions { Ttl = value });
        Same(nameof(LockRequest.Timeout), () => new LockRequest("r") { Timeout = value }, new AcquireOptions { Timeout = value });
        Same(nameof(LockRequest.MaxHoldTime), () => new LockRequest("r") { MaxHoldTime = value }, new AcquireOptions { MaxHoldTime = value });
    }

    private static void Same(string name, Func<LockRequest> request, AcquireOptions options)
    {
        var byOptions = Record.Exception(options.Validate);
        var byRequest = Record.Exception(request);

        Assert.Equal(byOptions is null, byRequest is null);
        if (byOptions is ArgumentException rejected)
        {
            var thrown = Assert.IsType<ArgumentOutOfRangeException>(byRequest);
            Assert.Equal(name, thrown.ParamName);
            Assert.StartsWith(rejected.Message.Split(" (Parameter")[0][name.Length..], thrown.Message[name.Length..], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Settings_Valid_AreKept()
    {
        var request = new LockRequest("r") { Ttl = TimeSpan.FromSeconds(2), HolderId = "v", Timeout = Timeout.InfiniteTimeSpan };

        Assert.Equal(TimeSpan.FromSeconds(2), request.Ttl);
        Assert.Equal("v", request.HolderId);
        Assert.Equal(Timeout.InfiniteTimeSpan, request.Timeout);
    }
}
