namespace DistLock;

/// <summary>The base type of every exception DistLock throws on purpose.</summary>
/// <remarks>
/// Catch it to handle every lock failure in one place; catch <see cref="LockTimeoutException"/>
/// (the lock stayed busy) and <see cref="LockBackendException"/> (Redis did not answer, or refused)
/// to tell contention from an outage.
/// </remarks>
public class DistLockException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public DistLockException()
        : base("A distributed lock operation failed.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public DistLockException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public DistLockException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
