using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// What goes on walking a line of waiters after a script stopped early (see wake-next.lua) for one
/// kind of hold: its pass-on script (with no departing waiter), its standby-next script, and the
/// keys both take.
/// </summary>
internal readonly record struct WakeScripts(LockScript PassOn, LockScript StandbyNext, RedisKey[] Keys)
{
    public static WakeScripts ForLock(string key) => new(LockScripts.PassOn, LockScripts.StandbyNext, [key, LockKeyLayout.WaitersKey(key)]);

    public static WakeScripts ForSemaphore(RedisKey[] keys) => new(LockScripts.PassOnSemaphore, LockScripts.StandbyNextSemaphore, keys);
}
