using DistLock.Algorithm;

namespace DistLock.Tests.Algorithm;

public sealed class LockValidityTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    [InlineData(6, 4)]
    [InlineData(7, 4)]
    public void QuorumSize_NodeCount_IsStrictMajority(int nodes, int quorum) =>
        Assert.Equal(quorum, LockValidity.QuorumSize(nodes));

    [Fact]
    public void QuorumSize_EvenCount_ToleratesNoMoreFailuresThanOneNodeLess()
    {
        for (var odd = 1; odd < 9; odd += 2)
        {
            var even = odd + 1;
            Assert.Equal(odd - LockValidity.QuorumSize(odd), even - LockValidity.QuorumSize(even));
        }
    }

    [Fact]
    public void Drift_IsOnePercentOfTtlPlusTwoMilliseconds() =>
        Assert.Equal(TimeSpan.FromMilliseconds(102), LockValidity.Drift(TimeSpan.FromSeconds(10), 0.01));

    [Fact]
    public void Compute_SubtractsElapsedAndDrift() =>
        Assert.Equal(
            TimeSpan.FromMilliseconds(10_000 - 150 - 102),
            LockValidity.Compute(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(150), 0.01));

    [Fact]
    public void Compute_SlowAttempt_IsNotPositive() =>
        Assert.True(LockValidity.Compute(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(99), 0.01) <= TimeSpan.Zero);
}
