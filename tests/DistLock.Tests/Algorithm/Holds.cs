using DistLock.Algorithm;
using DistLock.Transport;

namespace DistLock.Tests.Algorithm;

/// <summary>The holds the algorithm tests take, by kind.</summary>
internal static class Holds
{
    public static Hold Exclusive(string key) => new LockHold(key, LockMode.Exclusive);
}
