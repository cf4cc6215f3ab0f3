namespace DistLock;

/// <summary>Where a <see cref="LockHandle"/> stands.</summary>
public enum LockState
{
    /// <summary>Acquired, and still within its validity as far as this process can tell.</summary>
    Held,

    /// <summary>Released by this handle (or by disposing it or its manager).</summary>
    Released,

    /// <summary>
    /// No longer certainly held: an extension was refused, or its validity ran out before an
    /// extension succeeded, or the manager was disposed without releasing it, or a release got no
    /// answer (it failed, timed out or was cancelled after it was sent, and may have deleted the key).
    /// <see cref="LockHandle.LostToken"/> has fired.
    /// </summary>
    Lost,
}
