namespace DistLock;

/// <summary>What kind of lock a <see cref="LockHandle"/> holds.</summary>
public enum LockMode
{
    /// <summary>
    /// The plain lock (<c>AcquireAsync</c>): one holder at a time. It is the same lock as the
    /// resource's write lock, so it also excludes the resource's readers.
    /// </summary>
    Exclusive,

    /// <summary>
    /// A shared read lock (<c>AcquireReadAsync</c>): held together with any number of other
    /// readers of the resource, never with its writer (or exclusive holder).
    /// </summary>
    Read,

    /// <summary>
    /// The write lock (<c>AcquireWriteAsync</c>): held alone, excluding every reader and the
    /// exclusive lock of the resource, which is the same lock.
    /// </summary>
    Write,

    /// <summary>One of the permits of a semaphore (<c>AcquireSemaphoreAsync</c>): at most its <c>maxCount</c> holders at once.</summary>
    Semaphore,
}
