namespace DistLock;

/// <summary>
/// Redis could not be used: unreachable, too slow (no answer within
/// <see cref="RedisLockManagerOptions.NodeTimeout"/>), or it refused the command (authentication, ACL, ...).
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

    /// <summary>
    /// The outage of an operation over the nodes, in one wording everywhere: which operation on
    /// what, which node (one) or how many of how many (several) failed, and the first cause.
    /// </summary>
    /// <param name="operation">What could not be done, e.g. "acquire lock 'lock:{r}'".</param>
    /// <param name="nodeNames">Every node's name.</param>
    /// <param name="failed">How many nodes failed or did not answer in time.</param>
    /// <param name="firstError">The first cause, if any.</param>
    internal static LockBackendException NodesFailed(string operation, IReadOnlyList<string> nodeNames, int failed, Exception? firstError)
    {
        // The client's connection state stays in the inner exception: useful to its maintainers, noise here.
        var cause = firstError is null ? "no answer" : Transport.ClientErrorText.WithoutClientState(firstError.Message);
        var message = nodeNames.Count == 1
            ? $"Could not {operation}: Redis at {nodeNames[0]} failed ({cause})."
            : $"Could not {operation}: {failed} of {nodeNames.Count} Redis nodes failed, " +
              $"so no majority could answer (first error: {cause}).";
        return new LockBackendException(message, firstError);
    }
}
