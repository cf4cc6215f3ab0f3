using DistLock.Transport;

namespace DistLock;

/// <summary>
/// One acquisition with per-call settings: a TTL other than the manager's
/// <see cref="AcquireOptions.Ttl"/>, a caller-chosen holder id (Redis::DistLock's
/// <c>lock($resource, $ttl, $value)</c>), a timeout, automatic extension.
/// </summary>
/// <example>
/// <code>
/// var request = new LockRequest("invoice:42") { Ttl = TimeSpan.FromSeconds(5), HolderId = "worker-7" };
/// await using var handle = await locks.AcquireAsync(request);
/// </code>
/// </example>
public sealed class LockRequest
{
    /// <summary>The longest accepted caller-chosen <see cref="HolderId"/>, in UTF-8 bytes.</summary>
    public const int MaxHolderIdBytes = 1024;

    private readonly TimeSpan? _ttl;
    private readonly string? _id;
    private readonly TimeSpan? _timeout;
    private readonly TimeSpan? _maxHoldTime;

    /// <summary>Creates a request for <paramref name="resource"/>.</summary>
    /// <param name="resource">The name of the shared resource (not empty, at most 1024 UTF-8 bytes).</param>
    /// <exception cref="ArgumentException">The name is null, empty, blank or too long.</exception>
    public LockRequest(string resource)
    {
        LockKeyLayout.ValidateResource(resource, nameof(resource));
        Resource = resource;
        Resources = [resource];
    }

    /// <summary>
    /// Creates a request for a set of resources, taken together: all of them or none, in one
    /// <see cref="LockHandle"/> that extends, signals loss and releases them as one (see
    /// <see cref="MultiResourceExtensions.AcquireAllAsync(ILockManager, IEnumerable{string}, TimeSpan?, CancellationToken)"/>).
    /// </summary>
    /// <param name="resources">
    /// The names (each as for one resource), 1 to <see cref="MaxResources"/> after duplicates are
    /// removed. Their order does not matter: two callers that name the same resources in different
    /// orders never deadlock.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="resources"/> is null.</exception>
    /// <exception cref="ArgumentException">The set is empty or too large, an entry is null, or a name is invalid.</exception>
    public LockRequest(IEnumerable<string> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        var entry = 0;
        foreach (var name in resources)
        {
            if (name is null)
            {
                // Not an ArgumentNullException: that would say the set itself is null.
                throw new ArgumentException($"The resources' entry {entry} (counting from 0) is null; every entry must name a resource.", nameof(resources));
            }

            LockKeyLayout.ValidateResource(name, nameof(resources));
            names.Add(name);
            entry++;
        }

        if (names.Count == 0)
        {
            throw new ArgumentException("Name at least one resource.", nameof(resources));
        }

        if (names.Count > MaxResources)
        {
            throw new ArgumentException($"At most {MaxResources} resources can be taken together; {names.Count} were named.", nameof(resources));
        }

        Resources = [.. names];
        Resource = string.Join(", ", Resources);
    }

    /// <summary>How many resources one request may take together (<see cref="LockRequest(IEnumerable{string})"/>).</summary>
    public const int MaxResources = 64;

    /// <summary>A request for <paramref name="resources"/> with only a timeout: what the extensions that take names build.</summary>
    internal static LockRequest ForAll(IEnumerable<string> resources, TimeSpan? timeout) =>
        new(resources) { Timeout = AcquireOptions.CheckTimeout(timeout, nameof(timeout)) };

    /// <summary>A request for <paramref name="resource"/> with only a timeout: what the managers' overloads that take a name build.</summary>
    internal static LockRequest WithTimeout(string resource, TimeSpan? timeout) =>
        new(resource) { Timeout = AcquireOptions.CheckTimeout(timeout, nameof(timeout)) };

    /// <summary>
    /// Retries after the first attempt for this call; null uses <see cref="AcquireOptions.MaxRetries"/>.
    /// Internal: an election waits in line however the manager's callers retry.
    /// </summary>
    internal int? MaxRetries { get; init; }

    /// <summary>The name of the shared resource; for a set, its names in order, joined by ", " (for messages and traces).</summary>
    public string Resource { get; }

    /// <summary>The resources taken together: the one name, or the set's names sorted (ordinal) without duplicates.</summary>
    public IReadOnlyList<string> Resources { get; }

    /// <summary>The lock's time to live; null uses <see cref="AcquireOptions.Ttl"/>.</summary>
    public TimeSpan? Ttl
    {
        get => _ttl;
        init => _ttl = value is { } ttl ? AcquireOptions.CheckTtl(ttl, nameof(Ttl)) : null;
    }

    /// <summary>
    /// The holder's id: what is stored in the lock key and identifies the owner (the handle's
    /// <see cref="LockHandle.HolderId"/>, the inspected <see cref="LockInfo.HolderId"/>); null
    /// generates 128 random bits. A chosen id must be unique to its owner: anyone presenting the same
    /// id can extend or release the lock. 1 to 1024 UTF-8 bytes, not blank, not starting with <c>reserved:</c>.
    /// </summary>
    public string? HolderId
    {
        get => _id;
        init
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(HolderId));
                Transport.LockKeyLayout.EnsureWellFormed(value, "holder id", nameof(HolderId));
                if (System.Text.Encoding.UTF8.GetByteCount(value) > MaxHolderIdBytes)
                {
                    throw new ArgumentException($"A holder id must be at most {MaxHolderIdBytes} bytes (UTF-8).", nameof(HolderId));
                }

                if (value.StartsWith(Transport.LockKeyLayout.ReservedPrefix, StringComparison.Ordinal))
                {
                    throw new ArgumentException(
                        $"A holder id must not start with '{Transport.LockKeyLayout.ReservedPrefix}': DistLock marks a lock being handed to a waiter that way.", nameof(HolderId));
                }
            }

            _id = value;
        }
    }

    /// <summary>
    /// How long to wait for the lock; null uses the method's default
    /// (the manager's <see cref="AcquireOptions.Timeout"/> for <c>AcquireAsync</c>, zero for <c>TryAcquireAsync</c>).
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>, and any timeout longer than about
    /// 49.7 days (<see cref="TimeSpan.MaxValue"/> included), waits forever.
    /// </summary>
    public TimeSpan? Timeout
    {
        get => _timeout;
        init => _timeout = value is { } t ? AcquireOptions.CheckTimeout(t, nameof(Timeout)) : null;
    }

    /// <summary>Extend this lock automatically while it is held; null uses <see cref="AcquireOptions.AutoExtend"/>.</summary>
    public bool? AutoExtend { get; init; }

    /// <summary>
    /// How long automatic extension keeps this lock alive after it was acquired; null uses
    /// <see cref="AcquireOptions.MaxHoldTime"/>. Must be positive; <see cref="TimeSpan.MaxValue"/> means no limit.
    /// </summary>
    public TimeSpan? MaxHoldTime
    {
        get => _maxHoldTime;
        init => _maxHoldTime = AcquireOptions.CheckMaxHoldTime(value, nameof(MaxHoldTime));
    }
}
