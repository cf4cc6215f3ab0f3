namespace DistLock;

/// <summary>Who leads an election now, as <see cref="LeaderElection.GetLeaderAsync"/> reads it.</summary>
/// <param name="HolderId">The leader's holder id (its lock's value).</param>
/// <param name="HolderLabel">Who the leader is (<see cref="LeaderElectionOptions.HolderLabel"/>, e.g. <c>"web-3 pid 4121"</c>); null when its id carries none.</param>
/// <param name="Since">When the leader began campaigning for this term (the time in its holder id, written before it waited in line; <see cref="LeadershipTerm.Since"/> is the grant); null when its id carries no time.</param>
/// <param name="FencingToken">The term's fencing token: each leader takes one when its term begins, so this is the highest issued for the election.</param>
/// <param name="RemainingTtl">How long the term's lease has left, unless the leader extends it.</param>
public sealed record LeaderInfo(string HolderId, string? HolderLabel, DateTimeOffset? Since, long FencingToken, TimeSpan? RemainingTtl);
