namespace DistLock;

/// <summary>
/// Thrown by <see cref="ILockManager.AcquireAsync(string, TimeSpan?, CancellationToken)"/> when
/// the lock stayed held by someone else until the wait timeout passed or
/// <see cref="AcquireOptions.MaxRetries"/> ran out. Redis itself answered every attempt: an outage
/// is a <see cref="LockBackendException"/> instead.
/// </summary>
public sealed class LockTimeoutException : DistLockException
{
    /// <summary>Creates an exception with a default message.</summary>
    public LockTimeoutException()
        : base("The lock was not acquired in time.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public LockTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public LockTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal LockTimeoutException(string resource, int attempts, TimeSpan waited)
        : base($"Lock '{resource}' is still held by another owner after {attempts} attempt(s) " +
               $"over {waited.TotalMilliseconds:F0} ms.")
    {
        Resource = resource;
        Attempts = attempts;
        Waited = waited;
    }

    /// <summary>The resource that could not be locked.</summary>
    public string? Resource { get; }

    /// <summary>How many attempts were made.</summary>
    public int Attempts { get; }

    /// <summary>How long the caller waited in all.</summary>
    public TimeSpan Waited { get; }
}
