namespace DistLock.Cli.Tests;

/// <summary>Errors name the flag or the command at fault, in the tool's words, never .NET's.</summary>
[Collection(RedisCollection.Name)]
public sealed class ErrorMessageTests(RedisFixture redis)
{
    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task Exec_EmptyResource_NamesTheFlag(string resource)
    {
        // Regression: "distlock: The value cannot be an empty string or composed entirely of whitespace."
        using var tool = await Tool.RunAsync(["exec", "--resource", resource, "--", "true"], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal("distlock: --resource: a lock name cannot be empty", tool.Stderr.Trim());
    }

    [Theory]
    [InlineData("--prefix", "bad{prefix", "--prefix:")]
    [InlineData("--label", "tab\there", "--label:")]
    [InlineData("--ttl", "8d", "--ttl:")]
    public async Task Exec_BadOption_IsBadUsageNamingTheFlag_EvenWithRedisDown(string flag, string value, string start)
    {
        // Checked before connecting: a dead Redis must not turn bad usage into an outage (69).
        using var tool = await Tool.RunAsync(["exec", "--resource", "r", flag, value, "--redis", "127.0.0.1:1", "--", "true"]);

        Assert.Equal(64, tool.ExitCode);
        Assert.StartsWith("distlock: " + start, tool.Stderr.Trim(), StringComparison.Ordinal);
    }

    /// <summary>Regression (a review, 2026-12-07): TLS to a plain port said only "(not answering)".</summary>
    [Fact]
    public async Task Status_TlsToAPlainPort_AsksWhetherTheServerSpeaksTls()
    {
        using var tool = await Tool.RunAsync(["status", "tls-" + Guid.NewGuid().ToString("N")[..8], "--redis", redis.Server.Endpoint + ",ssl=true"]);

        Assert.Equal(69, tool.ExitCode);
        Assert.Equal($"distlock: cannot reach Redis at {redis.Server.Endpoint} (not answering; ssl=true: does the server speak TLS on this port?)", tool.Stderr.Trim());
    }

    [Fact]
    public async Task Status_EmptyName_SaysSo()
    {
        using var tool = await Tool.RunAsync(["status", ""], redis.Endpoint);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal("distlock: status: a lock name cannot be empty", tool.Stderr.Trim());
    }

    [Fact]
    public async Task Exec_NotExecutable_OneLine_Exits126()
    {
        // Regression: .NET's "An error occurred trying to start process ... with working directory ...".
        var file = Path.Combine(Path.GetTempPath(), "distlock-noexec-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(file, "#!/bin/sh\nexit 0\n");
        try
        {
            using var tool = await Tool.RunAsync(["exec", "--resource", "noexec-" + Guid.NewGuid().ToString("N")[..8], "--", file], redis.Endpoint);

            Assert.Equal(126, tool.ExitCode);
            Assert.Equal($"distlock: cannot run {file}: permission denied", tool.Stderr.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Regression (a review, 2026-12-06): a bare name ran a file of that name in the working
    /// directory, not on PATH ('.' is not on it), as a shell, flock or timeout would not.
    /// </summary>
    [Fact]
    public async Task Exec_BareName_IsLookedUpOnPathOnly_NotInTheWorkingDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("distlock-cwd-");
        try
        {
            var name = "distlock-probe-" + Guid.NewGuid().ToString("N")[..8];
            var file = Path.Combine(directory.FullName, name);
            await File.WriteAllTextAsync(file, "#!/bin/sh\necho ran from the working directory\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            using var tool = Tool.Start(["exec", "--resource", "cwd-" + Guid.NewGuid().ToString("N")[..8], "--", name], redis.Endpoint, workingDirectory: directory.FullName);
            Assert.Equal(127, await tool.WaitAsync());
            Assert.Equal($"distlock: cannot run {name}: command not found", tool.Stderr.Trim());
            Assert.DoesNotContain("ran from", tool.Stdout, StringComparison.Ordinal);

            using var explicitly = Tool.Start(["exec", "--resource", "cwd-" + Guid.NewGuid().ToString("N")[..8], "--", "./" + name], redis.Endpoint, workingDirectory: directory.FullName);
            Assert.Equal(0, await explicitly.WaitAsync());
            Assert.Contains("ran from the working directory", explicitly.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A file the system cannot run is refused in distlock's words, whether the command is to die
    /// with distlock (started through setpriv, on Linux) or not: not in setpriv's, and not handed
    /// to /bin/sh, which glibc's execvp does with a file the kernel refuses (a review, 2026-12-06).
    /// </summary>
    [Theory]
    [InlineData("echo ran\n", 126, "exec format error", false)]
    [InlineData("echo ran\n", 126, "exec format error", true)]
    [InlineData("#!/nonexistent/interpreter\necho ran\n", 127, "command not found", false)]
    [InlineData("#!/nonexistent/interpreter\necho ran\n", 127, "command not found", true)]
    public async Task Exec_FileTheSystemCannotRun_IsRefusedInDistLocksWords(string content, int exitCode, string reason, bool onLostIgnore)
    {
        var directory = Directory.CreateTempSubdirectory("distlock-unrunnable-");
        try
        {
            var file = Path.Combine(directory.FullName, "unrunnable");
            await File.WriteAllTextAsync(file, content);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            string[] ignore = onLostIgnore ? ["--on-lost", "ignore"] : [];

            using var tool = await Tool.RunAsync(["exec", "--resource", "unrunnable-" + Guid.NewGuid().ToString("N")[..8], .. ignore, "--", file], redis.Endpoint);

            Assert.Equal(exitCode, tool.ExitCode);
            Assert.Equal($"distlock: cannot run {file}: {reason}", tool.Stderr.Trim());
            Assert.DoesNotContain("ran", tool.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Regression (a review, 2026-12-06): "cannot run /tmp: success".</summary>
    [Fact]
    public async Task Exec_Directory_SaysSo_Exits126()
    {
        var directory = Path.GetTempPath().TrimEnd('/');
        using var tool = await Tool.RunAsync(["exec", "--resource", "dir-" + Guid.NewGuid().ToString("N")[..8], "--", directory], redis.Endpoint);

        Assert.Equal(126, tool.ExitCode);
        Assert.Equal($"distlock: cannot run {directory}: is a directory", tool.Stderr.Trim());
    }

    [Fact]
    public async Task Exec_NoSuchCommand_OneLine_Exits127()
    {
        using var tool = await Tool.RunAsync(["exec", "--resource", "nocmd-" + Guid.NewGuid().ToString("N")[..8], "--", "no-such-command-anywhere"], redis.Endpoint);

        Assert.Equal(127, tool.ExitCode);
        Assert.Equal("distlock: cannot run no-such-command-anywhere: command not found", tool.Stderr.Trim());
    }

    [Theory]
    [InlineData("bad,,=x", "distlock: --redis: 'bad,,=x' is not a valid configuration string: '=x' is neither host:port nor key=value")]
    [InlineData("host:port", "distlock: --redis: 'host:port' is not a valid configuration string: 'host:port' is neither host:port nor key=value")]
    [InlineData("127.0.0.1:6379,nonsense=1", "distlock: --redis: '127.0.0.1:6379,nonsense=1' is not a valid configuration string: Keyword 'nonsense' is not supported.")]
    [InlineData("redis://localhost:6379", "distlock: --redis: 'redis://localhost:6379' is not a valid configuration string: 'redis://localhost:6379' is neither host:port nor key=value (not a URL: write host:port, then ',password=...,ssl=true' as needed)")]
    [InlineData("127.0.0.1:0", "distlock: --redis: '127.0.0.1:0' names port 0; write the server's port (or leave it out for 6379)")]
    [InlineData("", "distlock: --redis: empty; give host:port (or set DISTLOCK_REDIS)")]
    public async Task MalformedRedisString_IsBadUsage_NamingTheFlag(string configuration, string expected)
    {
        // Regression: 'bad,,=x' was exit 69, "cannot reach Redis at Unspecified/bad:6379,Unspecified/=x:6379".
        using var tool = await Tool.RunAsync(["status", "r", "--redis", configuration]);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
    }

    [Theory]
    [InlineData("distlock: --ttl: 8d is longer than a lock's TTL can be (7d); the lock is extended while the command runs, so a short one will do", "--ttl", "8d")]
    [InlineData("distlock: --label: empty; give a label, or leave the flag out for the default (host, pid and command)", "--label", " ")]
    public async Task Exec_OutOfRangeFlag_SaysItInTheToolsWords(string expected, string flag, string value)
    {
        // Regression: "--ttl: Ttl must be between 10 ms and 7 days." and "--label: HolderLabel must not be empty or blank (null for none)."
        using var tool = await Tool.RunAsync(["exec", "--resource", "r", flag, value, "--", "true"], "127.0.0.1:1");

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
    }

    [Fact]
    public async Task UnreachableHostName_IsNamedAsTyped()
    {
        // Regression: "cannot reach Redis at Unspecified/localhost:1".
        using var tool = await Tool.RunAsync(["status", "r", "--redis", "localhost:1"]);

        Assert.Equal(69, tool.ExitCode);
        Assert.StartsWith("distlock: cannot reach Redis at localhost:1 (", tool.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost.:1")]
    [InlineData("redis_primary-0.internal:1")]
    public async Task WellFormedHostNames_AreNotRefused(string configuration)
    {
        using var tool = await Tool.RunAsync(["status", "r", "--redis", configuration + ",connectTimeout=300"]);

        Assert.Equal(69, tool.ExitCode); // tried, not refused as bad usage
    }

    [Fact]
    public async Task MalformedRedisVariable_NamesTheVariable()
    {
        using var tool = await Tool.RunAsync(["status", "r"], redis: redis.Endpoint + ";=x");

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal("distlock: DISTLOCK_REDIS: '=x' is not a valid configuration string: '=x' is neither host:port nor key=value", tool.Stderr.Trim());
    }

    /// <summary>Regression (a review, 2026-12-06): "distlock --redis host status x" said "unknown command 'host'".</summary>
    [Theory]
    [InlineData("distlock: --redis is an option of the commands, not of distlock: write it after the command, as in distlock status --redis ... (see distlock status --help)", "--redis", "127.0.0.1:1", "status", "x")]
    [InlineData("distlock: --prefix is an option of the commands, not of distlock: write it after the command, as in distlock list --prefix ... (see distlock list --help)", "--prefix=app:", "list")]
    [InlineData("distlock: --json is an option of the commands, not of distlock: write it after the command, as in distlock status --json ... (see distlock status --help)", "--json", "status", "x")]
    public async Task CommandOptionBeforeTheCommand_SaysWhereItGoes(string expected, params string[] arguments)
    {
        using var tool = await Tool.RunAsync(arguments);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
    }

    [Theory]
    [InlineData("distlock: unknown command 'help'; for help type distlock --help", "help")]
    [InlineData("distlock: unknown command 'help'; for help type distlock exec --help", "help", "exec")]
    public async Task HelpAsACommand_PointsToTheHelpFlag(string expected, params string[] arguments)
    {
        using var tool = await Tool.RunAsync(arguments);

        Assert.Equal(64, tool.ExitCode);
        Assert.Equal(expected, tool.Stderr.Trim());
    }
}
