namespace DistLock.Algorithm;

/// <summary>What one Redis node answered to one lock command.</summary>
internal enum NodeReply
{
    /// <summary>The node did what was asked (took, extended or deleted the key).</summary>
    Granted,

    /// <summary>The node answered, and refused: the key is held by someone else or gone.</summary>
    Denied,

    /// <summary>The node did not answer in time, or answered with an error.</summary>
    Failed,
}
