using System.Runtime.CompilerServices;

namespace DistLock.Algorithm;

/// <summary>
/// Where a waiting queue goes in a hold's line when an attempt of it joins: the time of the attempt,
/// sent to every node alike. Each node used to number its line by arrival there, and the attempts of
/// two queues reach two nodes in either order, so with one node of three down the two live nodes'
/// lines could have different queues first: a release then handed one node's turn to one queue and
/// the other node's to another, and neither could win that round. Every node now puts the queues in
/// the order of their stamps.
/// </summary>
/// <remarks>
/// A stamp is the clock's Unix time in tenths of milliseconds, and never below the last one issued
/// on that clock plus one, so that stamps are unique and rising on each clock (the managers of a
/// process on one clock share it) even when it stands still (a fake one) or steps back. Each clock
/// counts apart, so that one manager's clock, skewed or fake, does not move the stamps of the
/// others. Across processes the order is their clocks' order; a node holds a stamp within a tenth
/// of a second of its own clock (line.lua, <c>place</c>), so that a process whose clock is off
/// gains or loses no more than that. At 14 digits a stamp stays exact in the scripts' number
/// formatting (Lua prints 14 significant digits).
/// </remarks>
internal static class ArrivalStamp
{
    private static readonly ConditionalWeakTable<TimeProvider, StrongBox<long>> s_lastByClock = new();

    public static long Next(TimeProvider time)
    {
        var issued = s_lastByClock.GetValue(time, static _ => new StrongBox<long>());
        var now = time.GetUtcNow().ToUnixTimeMilliseconds() * 10;
        var last = Volatile.Read(ref issued.Value);
        while (true)
        {
            var next = Math.Max(now, last + 1);
            var seen = Interlocked.CompareExchange(ref issued.Value, next, last);
            if (seen == last)
            {
                return next;
            }

            last = seen;
        }
    }
}
