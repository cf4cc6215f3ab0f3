namespace DistLock;

/// <summary>
/// Redis could not be used: unreachable, too slow (no answer within
/// <see cref="LockOptions.NodeTimeout"/>), or it refused the command (authentication, ACL, ...).
/// With several nodes (Redlock) it is thrown when so many nodes failed that no majority could
/// answer. <see cref="Exception.InnerException"/> holds the first cause; it is never thrown
/// for a lock that is merely held by someone else.
/// </summary>
public sealed class LockBackendException : DistLockException
{
    /// <summary>Creates an exception with a default message.</summary>
    public LockBackendException()
        : base("Redis could not be reached.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public LockBackendException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public LockBackendException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
