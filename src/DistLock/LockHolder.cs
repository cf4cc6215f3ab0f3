namespace DistLock;

/// <summary>One holder among several: a reader of a read lock (<see cref="LockInfo.Readers"/>) or a semaphore's permit holder (<see cref="SemaphoreInfo.Holders"/>).</summary>
/// <param name="HolderId">The holder's id (its <see cref="LockHandle.HolderId"/>).</param>
/// <param name="RemainingTtl">How long its hold lives unless extended.</param>
public sealed record LockHolder(string HolderId, TimeSpan RemainingTtl)
{
    /// <summary>
    /// Who holds, when its manager had <see cref="AcquireOptions.HolderLabel"/> set (the label is
    /// carried in the holder id); null otherwise.
    /// </summary>
    public string? HolderLabel => HolderValue.Parse(HolderId).Label;

    /// <summary>When the holder acquired (its clock), with the same condition as <see cref="HolderLabel"/>.</summary>
    public DateTimeOffset? HeldSince => HolderValue.Parse(HolderId).Since;
}
