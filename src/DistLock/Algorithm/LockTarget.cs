namespace DistLock.Algorithm;

/// <summary>
/// What an acquisition asks the nodes for: the key its line of waiters, wake channels and fencing
/// counter hang off, and the kind of hold. <see cref="LockMode.Exclusive"/> and
/// <see cref="LockMode.Write"/> are the same hold on the same key.
/// </summary>
/// <param name="Key">The lock key (a semaphore has its own, see <c>LockKeyLayout.SemaphoreKey</c>).</param>
/// <param name="Mode">The kind of hold.</param>
/// <param name="MaxCount">For a semaphore: how many may hold it at once; 0 otherwise.</param>
internal readonly record struct LockTarget(string Key, LockMode Mode, int MaxCount = 0)
{
    /// <summary>
    /// How a reader's place in the line of waiters starts (the rest is random): the scripts tell
    /// readers from writers by it, to wake every reader ahead of the next writer at once. Written
    /// into the scripts as the Lua local READER_PREFIX (see LockScript).
    /// </summary>
    public const string ReaderWaiterPrefix = "read:";

    public static LockTarget Exclusive(string key) => new(key, LockMode.Exclusive);

    /// <summary>True for the modes that hold the lock key alone (exclusive and write).</summary>
    public bool IsExclusive => Mode is LockMode.Exclusive or LockMode.Write;
}
