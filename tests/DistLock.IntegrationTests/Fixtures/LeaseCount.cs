namespace DistLock.IntegrationTests.Fixtures;

/// <summary>How many leases a manager still keeps (extends, or watches for expiry), whichever kind it is.</summary>
public static class LeaseCount
{
    public static int Of(ILockManager manager) => manager switch
    {
        RedisLockManager redis => redis.Leases.Count,
        InMemoryLockManager memory => memory.Leases.Count,
        _ => throw new ArgumentException($"no lease count for {manager.GetType().Name}", nameof(manager)),
    };
}
