namespace DistLock;

/// <summary>One reader holding a read lock, as <see cref="LockInfo.Readers"/> lists it.</summary>
/// <param name="Id">The reader's lock id (its <see cref="LockHandle.Id"/>).</param>
/// <param name="RemainingTtl">How long its lease lives unless extended.</param>
public sealed record LockReader(string Id, TimeSpan RemainingTtl)
{
    /// <summary>Who holds this read lock, when its manager had <see cref="LockOptions.HolderLabel"/> set; null otherwise.</summary>
    public string? HolderLabel => HolderValue.Parse(Id).Label;

    /// <summary>When the reader acquired the lock (its clock), with the same condition as <see cref="HolderLabel"/>.</summary>
    public DateTimeOffset? HeldSince => HolderValue.Parse(Id).Since;
}
