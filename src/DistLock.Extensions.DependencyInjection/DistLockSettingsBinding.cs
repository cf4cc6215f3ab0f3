using System.ComponentModel;
using Microsoft.Extensions.Configuration;

namespace DistLock;

/// <summary>
/// Binds <see cref="DistLockSettings"/> with ConfigurationBinder, strictly: an unknown key or an
/// unreadable value stops the binding, and the reason, naming the key, is kept for the validator to
/// report when the host starts (instead of an exception from deep inside <c>IOptions.Value</c>).
/// </summary>
internal static class DistLockSettingsBinding
{
    /// <summary>Every key configuration can set, below the section: "KeyPrefix", "Defaults:Ttl"...</summary>
    private static readonly string[] Keys = [.. Settable(typeof(DistLockSettings), prefix: string.Empty).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Where DistLock's settings are: a section as it is, unless it has a "DistLock" section; the
    /// whole configuration (<c>builder.Configuration</c>) through its "DistLock" section, whatever
    /// else its top level holds.
    /// </summary>
    public static IConfigurationSection Locate(IConfiguration configuration) =>
        configuration is IConfigurationSection section && !section.GetSection(DistLockSettings.SectionName).Exists()
            ? section
            : configuration.GetSection(DistLockSettings.SectionName);

    public static void Bind(IConfigurationSection section, DistLockSettings settings)
    {
        // The binder names an unknown key's type, not its place or what was meant, and a list takes
        // any child as an item ("Redis": { "Host": ... } binds two endpoints): the keys are checked first.
        var unknown = section.AsEnumerable(makePathsRelative: true)
            .Where(e => e.Value is not null && !IsKnown(e.Key))
            .Select(e => $"{section.Path}:{e.Key}: unknown setting; {Suggest(e.Key)}")
            .ToList();
        if (unknown.Count > 0)
        {
            settings.BindErrors.AddRange(unknown);
            return;
        }

        try
        {
            DurationConverter.While(() => section.Bind(settings, binder => binder.ErrorOnUnknownConfiguration = true));
        }
        catch (InvalidOperationException ex)
        {
            settings.BindErrors.Add(ex.InnerException is null ? ex.Message : $"{ex.Message} {ex.InnerException.Message}");
        }
    }

    /// <summary>A key of <see cref="Keys"/>, an item of Redis's list ("Redis:0", nothing below it), or a section above a key ("Defaults": the binder says why it has no value).</summary>
    private static bool IsKnown(string key) =>
        (key.StartsWith(nameof(DistLockSettings.Redis) + ":", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(key.AsSpan(nameof(DistLockSettings.Redis).Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        || Keys.Any(k => k.Equals(key, StringComparison.OrdinalIgnoreCase) || k.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase));

    /// <summary>"did you mean Defaults:Ttl?", else every key.</summary>
    private static string Suggest(string key)
    {
        // The same name at another level (rc.1's "Ttl" is now "Defaults:Ttl"), else a key a few edits away.
        var name = key.Split(':')[^1];
        var meant = Keys.FirstOrDefault(k => k.Split(':')[^1].Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? Keys.Where(k => Distance(k, key) <= Math.Max(2, name.Length / 3)).MinBy(k => Distance(k, key));
        return meant is null ? $"known settings: {string.Join(", ", Keys)}." : $"did you mean {meant}?";
    }

    private static int Distance(string a, string b) => NearestName.EditDistance(a.ToUpperInvariant(), b.ToUpperInvariant());

    /// <summary>Properties read from text (TypeDescriptor converts them), and those of <see cref="AcquireOptions"/> below its key; not the clock or the meter factory.</summary>
    private static IEnumerable<string> Settable(Type type, string prefix) =>
        type.GetProperties().SelectMany(p =>
            p.PropertyType == typeof(AcquireOptions) ? Settable(p.PropertyType, $"{prefix}{p.Name}:")
            : TypeDescriptor.GetConverter(p.PropertyType).CanConvertFrom(typeof(string)) ? [prefix + p.Name]
            : []);
}
