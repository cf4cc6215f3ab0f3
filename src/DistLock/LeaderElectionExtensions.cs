namespace DistLock;

/// <summary>Leader election on any <see cref="ILockManager"/>: see <see cref="LeaderElection"/>.</summary>
public static class LeaderElectionExtensions
{
    /// <summary>
    /// A candidate in the election <paramref name="name"/>. It does nothing until asked: call
    /// <see cref="LeaderElection.WaitForLeadershipAsync"/> or <see cref="LeaderElection.TermsAsync"/>
    /// to campaign. Dispose it to stop campaigning and resign.
    /// </summary>
    /// <param name="locks">The manager whose locks the election uses.</param>
    /// <param name="name">The election's name: the name of its lock, with the same rules as a resource.</param>
    /// <param name="options">The election's settings; null uses the defaults. A copy is taken.</param>
    /// <returns>The candidate.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid resource name, or a setting is invalid.</exception>
    public static LeaderElection CreateElection(this ILockManager locks, string name, LeaderElectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(locks);
        Transport.LockKeyLayout.ValidateResource(name, nameof(name));
        var copy = options?.Clone() ?? new LeaderElectionOptions();
        copy.Validate();
        var managerOptions = (locks as LockManager)?.Options;
        var label = copy.HolderLabel ?? managerOptions?.Defaults.HolderLabel ?? $"{Environment.MachineName} pid {Environment.ProcessId}";
        return new LeaderElection(locks, name, copy, label, managerOptions?.TimeProvider ?? TimeProvider.System);
    }
}
