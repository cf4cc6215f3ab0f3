using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DistLock;

/// <summary>Checks DistLock's configuration when the host starts, with messages that name the bad key.</summary>
internal sealed class DistLockSettingsValidator(string defaultSection, bool hasMultiplexer) : IValidateOptions<DistLockSettings>
{
    public ValidateOptionsResult Validate(string? name, DistLockSettings options)
    {
        var section = options.ConfigurationPath ?? defaultSection;
        var errors = new List<string>(options.BindErrors);
        options.ToLockOptions(section, errors);
        if (options.Redis.Count == 0 && !hasMultiplexer)
        {
            errors.Add($"{section}:Redis: give at least one Redis configuration string, or register an IConnectionMultiplexer.");
        }

        for (var i = 0; i < options.Redis.Count; i++)
        {
            try
            {
                ConfigurationOptions.Parse(options.Redis[i]);
            }
            catch (ArgumentException ex)
            {
                errors.Add($"{section}:Redis:{i}: {ex.Message.Split('\n')[0].Trim()}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
