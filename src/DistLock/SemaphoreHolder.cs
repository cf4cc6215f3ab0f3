namespace DistLock;

/// <summary>One holder of a semaphore's permit (see <see cref="SemaphoreInfo"/>).</summary>
/// <param name="HolderId">The holder's lock id (its <see cref="LockHandle.Id"/>).</param>
/// <param name="RemainingTtl">How long its permit lives unless extended.</param>
public sealed record SemaphoreHolder(string HolderId, TimeSpan RemainingTtl)
{
    /// <summary>
    /// Who holds the permit, when its holder's manager had <see cref="LockOptions.HolderLabel"/> set
    /// (the label is carried in the lock id); null otherwise.
    /// </summary>
    public string? HolderLabel => HolderValue.Parse(HolderId).Label;

    /// <summary>When the holder took the permit (its clock), with the same condition as <see cref="HolderLabel"/>.</summary>
    public DateTimeOffset? HeldSince => HolderValue.Parse(HolderId).Since;
}
