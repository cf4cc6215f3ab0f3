using System.ComponentModel.DataAnnotations;
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

        // LockOptions' own rules (the ones its managers apply), each said about its key.
        var lockOptions = options.Options;
        var invalid = new HashSet<string>(StringComparer.Ordinal);
        foreach (var result in ((IValidatableObject)lockOptions).Validate(new ValidationContext(lockOptions)))
        {
            foreach (var member in result.MemberNames)
            {
                invalid.Add(member);
                errors.Add($"{section}:{member}: {result.ErrorMessage}");
            }
        }

        // A TTL that automatic extension cannot keep: the lock would be lost before its first
        // extension is answered. Here, not in LockOptions: a manager built in code may well use a
        // short TTL on purpose (a test on a fake clock); an application's configuration should not.
        if (lockOptions.AutoExtend && !invalid.Contains(nameof(LockOptions.Ttl)) && !invalid.Contains(nameof(LockOptions.NodeTimeout)))
        {
            var lowest = DurationText.MinimumExtendableTtl(lockOptions.NodeTimeout);
            if (lockOptions.Ttl < lowest)
            {
                errors.Add($"{section}:{nameof(LockOptions.Ttl)}: {DurationText.Format(lockOptions.Ttl)} is too short to be extended in time (an extension after a third of it may take NodeTimeout {DurationText.Format(lockOptions.NodeTimeout)}); the lowest that works is {DurationText.Format(lowest)}.");
            }
        }

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
