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

    internal LockTimeoutException(string resource, LockMode mode, int attempts, TimeSpan waited)
        : this(resource, $"{Busy(resource, mode)} after {attempts} attempt(s) over {waited.TotalMilliseconds:F0} ms.", attempts, waited)
    {
    }

    private static string Busy(string resource, LockMode mode) => mode switch
    {
        LockMode.Semaphore => $"Semaphore '{resource}' has no free permit",
        LockMode.Read => $"Lock '{resource}' is still held (or waited for) by a writer",
        // "Another owner" read as another process to a caller whose own earlier handle held it.
        _ => $"Lock '{resource}' is still held by another handle (this manager's too: a lock is not reentrant) or kept for a waiter ahead,",
    };

    private LockTimeoutException(string resource, string message, int attempts, TimeSpan waited)
        : base(message)
    {
        Resource = resource;
        Attempts = attempts;
        Waited = waited;
    }

    /// <summary>A set not taken in time, naming the members found busy when known (<see cref="Resource"/> is the set, joined).</summary>
    internal static LockTimeoutException ForSet(IReadOnlyList<string> resources, IReadOnlyList<string> busy, int attempts, TimeSpan waited)
    {
        var which = busy.Count > 0
            ? $"; busy: {Quoted(busy)} (held by another owner, or kept for a waiter ahead of this one)"
            : string.Empty;
        return new LockTimeoutException(
            string.Join(", ", resources),
            $"The set of {resources.Count} resources {Quoted(resources)} was not free as a whole after {attempts} attempt(s) over {waited.TotalMilliseconds:F0} ms{which}.",
            attempts,
            waited);
    }

    /// <summary>Resource names for a message: each in quotes, joined by commas.</summary>
    internal static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    /// <summary>The resource that could not be locked.</summary>
    public string? Resource { get; }

    /// <summary>How many attempts were made.</summary>
    public int Attempts { get; }

    /// <summary>How long the caller waited in all.</summary>
    public TimeSpan Waited { get; }
}
