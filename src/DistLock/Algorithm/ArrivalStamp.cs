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
/// A stamp is the clock's Unix time in tenths of milliseconds, and never below the last one this
/// process issued plus one, so that stamps are unique and rising in a process even on a clock that
/// stands still (a fake one) or steps back. Across processes the order is their clocks' order, to
/// within their skew. At 14 digits a stamp stays exact in the scripts' number formatting (Lua prints
/// 14 significant digits).
/// </remarks>
internal static class ArrivalStamp
{
    private static long s_last;

    public static long Next(TimeProvider time)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds() * 10;
        var last = Volatile.Read(ref s_last);
        while (true)
        {
            var next = Math.Max(now, last + 1);
            var seen = Interlocked.CompareExchange(ref s_last, next, last);
            if (seen == last)
            {
                return next;
            }

            last = seen;
        }
    }
}
