namespace DistLock.Cli.Tests;

/// <summary>
/// The field names of status --json and list --json, in order: the library's names for the same
/// things (issue 25), documented in docs/cli.md. A rename here is a break for every script that reads them.
/// </summary>
internal static class JsonFields
{
    public static readonly string[] Lock =
        ["resource", "key", "state", "holderId", "handingOver", "remainingTtlMs", "lastFencingToken", "waiters", "nodesHolding", "nodes", "holderLabel", "heldSince", "readers"];

    /// <summary>Each lock of status A B --json (several names): a lock's fields, then the others its holder holds among them.</summary>
    public static readonly string[] LockAmongSeveral = [.. Lock, "heldWith"];

    public static readonly string[] Semaphore =
        ["resource", "key", "maxCount", "freePermits", "handingOver", "holders", "lastFencingToken", "waiters"];

    /// <summary>A lock's reader and a semaphore's holder: one shape, the library's LockHolder.</summary>
    public static readonly string[] Holder = ["holderId", "remainingTtlMs", "holderLabel", "heldSince"];
}
