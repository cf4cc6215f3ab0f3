namespace DistLock.Algorithm;

/// <summary>
/// Random ids in hex (lock ids, wait-queue ids). They come from <see cref="Random.Shared"/>
/// (one generator per thread, each seeded by the operating system), not from a cryptographic
/// generator: an id only has to be unique among its peers, it guards nothing (whoever reaches
/// Redis can delete the key), and the cryptographic one was 5% of the client's CPU at 64 tasks.
/// </summary>
internal static class RandomHex
{
    /// <summary>A new id of <paramref name="bytes"/> random bytes (at most 64), as lowercase hex.</summary>
    public static string New(int bytes)
    {
        Span<byte> random = stackalloc byte[bytes];
        Random.Shared.NextBytes(random);
        return Convert.ToHexStringLower(random);
    }
}
