using System.Reflection;

namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// The settings a suite over any topology gives (<see cref="LockManagerOptions"/>, which the
/// in-memory manager takes) as a Redis manager takes them: a <see cref="RedisLockManagerOptions"/>.
/// </summary>
public static class RedisOptions
{
    /// <summary>
    /// <paramref name="options"/> itself when it is already Redis's; else a copy of its settings and
    /// of its <see cref="LockManagerOptions.Defaults"/>, with Redis's own settings at their defaults.
    /// </summary>
    public static RedisLockManagerOptions? From(LockManagerOptions? options)
    {
        if (options is null or RedisLockManagerOptions)
        {
            return (RedisLockManagerOptions?)options;
        }

        var copy = new RedisLockManagerOptions();
        CopySettings(options, copy);
        CopySettings(options.Defaults, copy.Defaults);
        return copy;
    }

    // Every settable property, internal ones included (IdleExpiry): a setting the library adds later
    // is carried over too instead of quietly keeping its default on the Redis topologies only.
    // Defaults has a private setter: it is copied member by member above.
    private static void CopySettings<T>(T from, T to)
    {
        var settable = typeof(T).GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(p => p.SetMethod is { IsPrivate: false });
        foreach (var property in settable)
        {
            property.SetValue(to, property.GetValue(from));
        }
    }
}
