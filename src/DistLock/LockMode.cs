namespace DistLock;

/// <summary>What kind of lock a <see cref="LockHandle"/> holds.</summary>
public enum LockMode
{
    /// <summary>
    /// The exclusive lock (<c>AcquireAsync</c>): one holder at a time, and no reader. It is the
    /// write lock of a reader-writer lock.
    /// </summary>
    Exclusive = 0,

    /// <summary>
    /// A shared read lock (<c>AcquireReadAsync</c>): held together with any number of other
    /// readers of the resource, never with its exclusive holder (the writer).
    /// </summary>
    Read = 1,

    /// <summary>One of the permits of a semaphore (<c>AcquireSemaphoreAsync</c>): at most its <c>maxCount</c> holders at once.</summary>
    Semaphore = 3,
}
