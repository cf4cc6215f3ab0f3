namespace DistLock.RedisRig;

/// <summary>Finds redis-server on the PATH (the Debian package puts it in /usr/bin).</summary>
public static class RedisBinaries
{
    public static string Server { get; } = Find("redis-server");

    public static string Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin";
        foreach (var directory in path.Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"{name} was not found on the PATH. Install it (Debian: apt-get install -y redis-server) or run ./build.sh test, which does.");
    }
}
