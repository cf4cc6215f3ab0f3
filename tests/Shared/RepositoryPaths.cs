namespace DistLock.Testing;

/// <summary>Where the repository is, for tests that read its sources or pack its projects (linked into each test project).</summary>
internal static class RepositoryPaths
{
    public static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DistLock.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("DistLock.slnx not found above the test output");
    }
}
