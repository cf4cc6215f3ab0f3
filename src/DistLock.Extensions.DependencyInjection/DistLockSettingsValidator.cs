using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DistLock;

/// <summary>Checks DistLock's settings when the host starts, each message naming the configuration key (<c>DistLock:Defaults:Ttl</c>).</summary>
internal sealed partial class DistLockSettingsValidator(string section, bool hasMultiplexer) : IValidateOptions<DistLockSettings>
{
    public ValidateOptionsResult Validate(string? name, DistLockSettings options)
    {
        if (options.BindErrors.Count > 0)
        {
            // The binding stopped there: what the settings hold now is not what configuration says.
            return ValidateOptionsResult.Fail(options.BindErrors);
        }

        // The library's own rules, as its managers apply them; the settings they name ("Defaults.Ttl") are keys.
        var results = ((IValidatableObject)options).Validate(new ValidationContext(options)).ToList();
        var invalid = results.SelectMany(r => r.MemberNames).ToHashSet(StringComparer.Ordinal);
        var errors = results.SelectMany(r => r.MemberNames.Select(m => $"{section}:{m.Replace('.', ':')}: {r.ErrorMessage}")).ToList();

        // A TTL that automatic extension cannot keep: the lock would be lost before its first
        // extension is answered. Here, not in the library: a manager built in code may well use a
        // short TTL on purpose (a test on a fake clock); an application's configuration should not.
        var lowest = DurationText.MinimumExtendableTtl(options.NodeTimeout);
        if (options.Defaults.AutoExtend && options.Defaults.Ttl < lowest && !invalid.Contains("Defaults.Ttl") && !invalid.Contains(nameof(options.NodeTimeout)))
        {
            errors.Add($"{section}:Defaults:Ttl: {DurationText.Format(options.Defaults.Ttl)} is too short to be extended in time (an extension after a third of it may take NodeTimeout {DurationText.Format(options.NodeTimeout)}); the lowest that works is {DurationText.Format(lowest)}.");
        }

        if (options.Redis.Count == 0 && !hasMultiplexer)
        {
            errors.Add($"{section}:Redis: give at least one Redis configuration string, or register an IConnectionMultiplexer.");
        }

        errors.AddRange(options.Redis.Select((redis, i) => RedisProblem(redis) is { } problem ? $"{section}:Redis:{i}: {problem}" : null).OfType<string>());
        errors.AddRange(SharedEndpoints(options.Redis).Select(pair => $"{section}:Redis:{pair.Later}: names an endpoint of {section}:Redis:{pair.Earlier}; Redlock needs independent servers (one configuration string can list a deployment's several endpoints)."));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Pairs of configuration strings that name a common endpoint, as written (the same server under two names is found when connecting).</summary>
    private static IEnumerable<(int Earlier, int Later)> SharedEndpoints(IList<string> configurations)
    {
        var endpoints = configurations.Select(c => RedisProblem(c) is null
            ? ConfigurationOptions.Parse(c).EndPoints.Select(e => e.ToString() ?? string.Empty).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : []).ToList();
        for (var later = 1; later < endpoints.Count; later++)
        {
            for (var earlier = 0; earlier < later; earlier++)
            {
                if (endpoints[later].Overlaps(endpoints[earlier]))
                {
                    yield return (earlier, later);
                    break;
                }
            }
        }
    }

    private static string? RedisProblem(string configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration))
        {
            return "expected a Redis configuration string such as \"host:6379\".";
        }

        try
        {
            // As RedisLockManager.ConnectAsync checks a configuration string before it connects.
            var parsed = ConfigurationOptions.Parse(configuration);
            return configuration.TrimStart() is var text && (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)) ? "a Redis URL is not a StackExchange.Redis configuration string: write \"host:6379,password=...\" (add ssl=true for rediss://)."
                : parsed.EndPoints.Count == 0 ? "names no endpoint (expected \"host:6379\", with any options after it)."
                : PortZero().Match(configuration) is { Success: true } zero ? $"names port 0 ('{zero.Value.Trim()}'), which the client reads as 6379: write the server's port, or leave it out for 6379."
                : parsed.ConnectTimeout <= 0 ? $"connectTimeout must be a positive number of milliseconds, not {parsed.ConnectTimeout}."
                : RedisHostNames.FirstMalformed(parsed) is { } host ? $"names '{host}' as a server, which is neither host:port nor key=value."
                : null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message.Split('\n')[0].Trim();
        }
    }

    /// <summary>An endpoint written with port 0 ("host:0"), which StackExchange.Redis reads as "no port" (6379).</summary>
    [GeneratedRegex(@"(?<=^|,)[^,=]*:0+\s*(?=,|$)")]
    private static partial Regex PortZero();
}
