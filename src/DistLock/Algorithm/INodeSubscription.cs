namespace DistLock.Algorithm;

/// <summary>A live subscription to one lock's release channel on one node.</summary>
internal interface INodeSubscription : IAsyncDisposable
{
    /// <summary>True while messages can arrive (the subscription's connection is up).</summary>
    bool IsActive { get; }
}
