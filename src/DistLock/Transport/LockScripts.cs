namespace DistLock.Transport;

/// <summary>The scripts DistLock sends to Redis, one per operation.</summary>
internal static class LockScripts
{
    public static LockScript Acquire { get; } = LockScript.Load("acquire");

    public static LockScript Extend { get; } = LockScript.Load("extend");

    public static LockScript Release { get; } = LockScript.Load("release");

    public static LockScript AcquireRead { get; } = LockScript.Load("acquire-read");

    public static LockScript ExtendRead { get; } = LockScript.Load("extend-read");

    public static LockScript ReleaseRead { get; } = LockScript.Load("release-read");

    public static LockScript PassOn { get; } = LockScript.Load("pass-on");

    public static LockScript StandbyNext { get; } = LockScript.Load("standby-next");

    public static LockScript FenceFloor { get; } = LockScript.Load("fence-floor");

    public static LockScript FencedWrite { get; } = LockScript.Load("fenced-write");

    public static LockScript Inspect { get; } = LockScript.Load("inspect");

    public static LockScript ForceRelease { get; } = LockScript.Load("force-release");

    public static LockScript AcquireSemaphore { get; } = LockScript.Load("acquire-semaphore");

    public static LockScript ExtendSemaphore { get; } = LockScript.Load("extend-semaphore");

    public static LockScript ReleaseSemaphore { get; } = LockScript.Load("release-semaphore");

    public static LockScript PassOnSemaphore { get; } = LockScript.Load("pass-on-semaphore");

    public static LockScript StandbyNextSemaphore { get; } = LockScript.Load("standby-next-semaphore");

    public static LockScript InspectSemaphore { get; } = LockScript.Load("inspect-semaphore");

    public static LockScript ForceReleaseSemaphore { get; } = LockScript.Load("force-release-semaphore");
}
