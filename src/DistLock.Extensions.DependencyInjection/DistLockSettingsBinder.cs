using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace DistLock;

/// <summary>
/// Binds <see cref="DistLockSettings"/> from configuration itself: <c>Redis</c>, and every other key
/// onto the <see cref="LockOptions"/> property of its name, so that there is one list of settings
/// (LockOptions') and one copy of each rule (its validation). Bound here rather than by
/// ConfigurationBinder so that: durations take the tool's syntax (<c>10s</c>, <c>1m30s</c>) as well
/// as <c>hh:mm:ss</c>; <c>Redis</c> is one string or a list; and a misspelt key ("Ttll") is an error
/// at start-up instead of a setting silently ignored. Problems are collected, each naming its key,
/// and reported by the validator.
/// </summary>
internal static class DistLockSettingsBinder
{
    // Declared before Settable, which reads it while the class is initialized.
    private static readonly Type[] Bindable = [typeof(TimeSpan), typeof(int), typeof(double), typeof(bool), typeof(string)];

    /// <summary>The options configuration can set: those whose values are text, numbers, flags or durations (not the clock or the meter factory).</summary>
    private static readonly PropertyInfo[] Settable = typeof(LockOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite && Bindable.Contains(Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType))
        .ToArray();

    /// <summary>Every key the section may contain.</summary>
    public static IReadOnlyList<string> KnownKeys { get; } =
        [nameof(DistLockSettings.Redis), .. Settable.Select(p => p.Name)];

    /// <summary>
    /// Where DistLock's settings are in <paramref name="configuration"/>, and that place's path for
    /// messages. A section is read as it is, unless it holds none of DistLock's keys but has a
    /// "DistLock" section. The whole configuration (<c>builder.Configuration</c>) is read through its
    /// "DistLock" section when it has one, as <c>AddDistLock(builder.Configuration)</c> means; its own
    /// top-level "Redis" may well belong to someone else. Chosen when the settings are bound, so
    /// configuration sources added after <c>AddDistLock</c> count.
    /// </summary>
    public static (IConfiguration Configuration, string Path) Locate(IConfiguration configuration)
    {
        var nested = configuration.GetSection(DistLockSettings.SectionName);
        if (configuration is IConfigurationSection section)
        {
            return section.GetChildren().Any(c => IsKnown(c.Key)) || !nested.Exists() ? (section, section.Path) : (nested, nested.Path);
        }

        return nested.Exists() ? (nested, nested.Path) : (configuration, DistLockSettings.SectionName);
    }

    public static void Bind(IConfiguration configuration, DistLockSettings settings)
    {
        var (located, section) = Locate(configuration);
        settings.ConfigurationPath = section;
        Bind(located, section, settings);
    }

    private static bool IsKnown(string key) => KnownKeys.Any(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));

    private static void Bind(IConfiguration configuration, string section, DistLockSettings settings)
    {
        foreach (var child in configuration.GetChildren())
        {
            var path = $"{section}:{child.Key}";
            if (string.Equals(child.Key, nameof(DistLockSettings.Redis), StringComparison.OrdinalIgnoreCase))
            {
                BindRedis(child, path, settings);
                continue;
            }

            var property = Settable.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null && configuration is not IConfigurationSection)
            {
                // The whole configuration, without a "DistLock" section, read as the section: its
                // other keys (Logging, AllowedHosts...) belong to others.
                continue;
            }

            if (property is null)
            {
                settings.BindErrors.Add($"{path}: unknown setting{Nearest(child.Key)}; known settings: {string.Join(", ", KnownKeys)}.");
                continue;
            }

            if (child.Value is null)
            {
                settings.BindErrors.Add($"{path}: expected a single value, found a section.");
                continue;
            }

            if (Convert(child.Value, Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, property.Name, out var value, out var error))
            {
                property.SetValue(settings.Options, value);
            }
            else
            {
                settings.BindErrors.Add($"{path}: {error}");
            }
        }
    }

    private static void BindRedis(IConfigurationSection redis, string path, DistLockSettings settings)
    {
        // "Redis": "host:6379" (one deployment: any StackExchange.Redis configuration string) or
        // "Redis": [ "a:6379", "b:6379", "c:6379" ] (Redlock: one string per independent master).
        if (!string.IsNullOrWhiteSpace(redis.Value))
        {
            settings.Redis.Add(redis.Value);
            return;
        }

        foreach (var node in redis.GetChildren().OrderBy(c => int.TryParse(c.Key, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue))
        {
            if (string.IsNullOrWhiteSpace(node.Value))
            {
                settings.BindErrors.Add($"{path}:{node.Key}: expected a Redis configuration string such as \"host:6379\".");
            }
            else
            {
                settings.Redis.Add(node.Value);
            }
        }
    }

    private static bool Convert(string text, Type type, string name, out object? value, out string error)
    {
        value = null;
        error = string.Empty;
        if (type == typeof(TimeSpan))
        {
            var allowInfinite = name is nameof(LockOptions.DefaultWaitTimeout);
            value = DurationText.TryParse(text, allowInfinite, out error);
            return value is not null;
        }

        if (type == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            value = integer;
            return true;
        }

        if (type == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
        {
            value = real;
            return true;
        }

        if (type == typeof(bool) && bool.TryParse(text, out var flag))
        {
            value = flag;
            return true;
        }

        if (type == typeof(string))
        {
            value = text;
            return true;
        }

        error = $"'{text}' is not a valid {(type == typeof(bool) ? "true/false" : type == typeof(int) ? "whole number" : "number")}.";
        return false;
    }

    /// <summary>" (did you mean Ttl?)" for a key one or two edits from a known one.</summary>
    private static string Nearest(string key)
    {
        var best = KnownKeys
            .Select(k => (Key: k, Distance: NearestName.EditDistance(k.ToUpperInvariant(), key.ToUpperInvariant())))
            .OrderBy(k => k.Distance)
            .First();
        return best.Distance <= 2 ? $" (did you mean {best.Key}?)" : string.Empty;
    }

}
