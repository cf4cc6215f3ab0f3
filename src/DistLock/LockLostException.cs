namespace DistLock;

/// <summary>
/// The lock is no longer held, so what was asked of it (a fencing token) cannot be given: it was
/// lost (its TTL ran out before an extension, or it was taken over or forced free) or released.
/// Stop the work the lock protected.
/// </summary>
public sealed class LockLostException : DistLockException
{
    /// <summary>Creates the exception for the lock under <paramref name="key"/>.</summary>
    /// <param name="key">The lock's key.</param>
    public LockLostException(string key)
        : base($"The lock '{key}' is no longer held (lost or released), so no fencing token can be issued for it.")
    {
        Key = key;
    }

    /// <summary>The lock's key.</summary>
    public string Key { get; }
}
