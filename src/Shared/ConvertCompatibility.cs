// Convert.ToHexStringLower arrived in .NET 9; on .NET 8 a static extension (C# 14) gives the
// same call the same result. Linked into the projects that target net8.0.
#if !NET9_0_OR_GREATER
namespace DistLock;

internal static class ConvertCompatibility
{
    extension(Convert)
    {
        public static string ToHexStringLower(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

        public static string ToHexStringLower(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
    }
}
#endif
