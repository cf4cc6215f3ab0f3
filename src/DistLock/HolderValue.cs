using System.Globalization;

namespace DistLock;

/// <summary>
/// The lock value DistLock makes when <see cref="AcquireOptions.HolderLabel"/> is set:
/// <c>{label}|{acquired at, Unix ms}|{128 random bits in hex}</c>. Who holds a lock and since when
/// then travel in the value itself, so tools can show them without a command more per acquisition.
/// </summary>
internal static class HolderValue
{
    private const char Separator = '|';
    private const int RandomHexLength = 32;

    /// <summary>A new holder id: labelled and timed when there is a label, else 128 random bits alone.</summary>
    public static string New(string? label, TimeProvider clock) =>
        label is null ? Algorithm.RandomHex.New(16) : Format(label, clock.GetUtcNow(), Algorithm.RandomHex.New(16));

    public static string Format(string label, DateTimeOffset acquiredAt, string randomHex) =>
        string.Create(CultureInfo.InvariantCulture, $"{label}{Separator}{acquiredAt.ToUnixTimeMilliseconds()}{Separator}{randomHex}");

    /// <summary>The label and time of a value made by <see cref="Format"/>; nulls for any other value.</summary>
    public static (string? Label, DateTimeOffset? Since) Parse(string? value)
    {
        if (value is null)
        {
            return default;
        }

        var last = value.LastIndexOf(Separator);
        if (last < 0 || value.Length - last - 1 != RandomHexLength)
        {
            return default;
        }

        var middle = value.LastIndexOf(Separator, last - 1);
        if (middle <= 0 || !long.TryParse(value.AsSpan(middle + 1, last - middle - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var unixMs))
        {
            return default;
        }

        return (value[..middle], DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
    }
}
