namespace DistLock.Algorithm;

/// <summary>How an acquisition ended: held (with the winning attempt) or given up.</summary>
/// <param name="Winner">The attempt that took the lock; null when the caller gave up.</param>
/// <param name="Attempts">How many attempts were made.</param>
/// <param name="Elapsed">From the call to its end.</param>
/// <param name="Busy">For a set given up: the members' keys the last attempt found not the caller's to take, when known.</param>
internal readonly record struct AcquireOutcome(AttemptResult? Winner, int Attempts, TimeSpan Elapsed, IReadOnlyList<string>? Busy = null);
