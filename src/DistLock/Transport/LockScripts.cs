namespace DistLock.Transport;

/// <summary>The scripts DistLock sends to Redis, one per operation.</summary>
internal static class LockScripts
{
    public static LockScript Acquire { get; } = LockScript.Load("acquire");

    public static LockScript Extend { get; } = LockScript.Load("extend");

    public static LockScript Release { get; } = LockScript.Load("release");

    public static LockScript PassOn { get; } = LockScript.Load("pass-on");
}
