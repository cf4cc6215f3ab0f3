using System.Reflection;

namespace DistLock.Tests;

/// <summary>Keeps the public surface deliberate: sealed types, handles only from a manager, async with tokens.</summary>
public sealed class ApiShapeTests
{
    private static readonly Type[] PublicTypes = typeof(RedisLockManager).Assembly.GetExportedTypes();

    [Fact]
    public void PublicClasses_AreSealed_ExceptTheExceptionBaseAndTheManagerOptions()
    {
        // RedisLockManagerOptions adds what only Redis needs to the settings of every manager, and the
        // DI package's DistLockSettings adds the connection strings to it; neither can change a rule.
        var open = PublicTypes
            .Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract && t != typeof(DistLockException) && t != typeof(LockManagerOptions) && t != typeof(RedisLockManagerOptions))
            .Select(t => t.Name);

        Assert.Empty(open);
    }

    [Fact]
    public void LockManager_CannotBeDerivedOutsideDistLock()
    {
        var reachable = typeof(LockManager).GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .Where(c => c.IsPublic || c.IsFamily || c.IsFamilyOrAssembly);

        Assert.Empty(reachable);
        Assert.True(typeof(LockManager).IsAssignableFrom(typeof(RedisLockManager)));
        Assert.True(typeof(LockManager).IsAssignableFrom(typeof(InMemoryLockManager)));
    }

    [Fact]
    public void LockHandle_HasNoPublicConstructor() =>
        Assert.Empty(typeof(LockHandle).GetConstructors(BindingFlags.Public | BindingFlags.Instance));

    [Fact]
    public void PublicAsyncMethods_TakeACancellationTokenLast()
    {
        var missing = PublicTypes
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.Name.EndsWith("Async", StringComparison.Ordinal) && m.Name != nameof(IAsyncDisposable.DisposeAsync))
            .Where(m => m.GetParameters().LastOrDefault()?.ParameterType != typeof(CancellationToken))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}");

        Assert.Empty(missing);
    }

    [Fact]
    public void BlockingForms_TakeACancellationTokenLast()
    {
        var blocking = typeof(LockManagerExtensions).GetMethods(BindingFlags.Public | BindingFlags.Static);

        Assert.Equal(6, blocking.Length);
        Assert.All(blocking, m => Assert.Equal(typeof(CancellationToken), m.GetParameters()[^1].ParameterType));
    }

    [Fact]
    public void HandlesAndManagers_AreAsyncAndSyncDisposable()
    {
        Assert.True(typeof(IAsyncDisposable).IsAssignableFrom(typeof(LockHandle)));
        Assert.True(typeof(IDisposable).IsAssignableFrom(typeof(LockHandle)));
        Assert.True(typeof(IAsyncDisposable).IsAssignableFrom(typeof(LockManager)));
        Assert.True(typeof(IDisposable).IsAssignableFrom(typeof(LockManager)));
    }
}
