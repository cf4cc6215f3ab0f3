namespace DistLock.IntegrationTests.Fixtures;

/// <summary>How many leases a manager still keeps (extends, or watches for expiry), whichever kind it is.</summary>
public static class LeaseCount
{
    public static int Of(ILockManager manager) => manager is LockManager known
        ? known.Leases.Count
        : throw new ArgumentException($"no lease count for {manager.GetType().Name}", nameof(manager));
}
