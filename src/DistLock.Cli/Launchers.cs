using System.Text;

namespace DistLock.Cli;

/// <summary>
/// What runs before exec's command on Linux, each program then running the next in its own place
/// (exec: the same process, the same exit code). util-linux's setpriv gives the command a
/// parent-death signal: it dies with distlock, even with a distlock killed by SIGKILL, which can
/// neither stop it nor let go of the lock, so it does not run on beside the next holder. coreutils'
/// env gives it SIGPIPE's default back: .NET ignores SIGPIPE, an ignored signal stays ignored across
/// exec, and "yes | head -1" in the command then wrote "Broken pipe" errors. Elsewhere, or without
/// them, the command starts as it is.
/// </summary>
internal static class Launchers
{
    /// <summary>The programs (with their arguments) to put before <paramref name="path"/>; none to start it as it is.</summary>
    /// <exception cref="CliException">The command cannot run: said in distlock's words, before a launcher would say it in its own.</exception>
    public static IReadOnlyList<string> For(string name, string path, bool diesWithDistLock)
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        var launchers = new List<string>();
        if (diesWithDistLock && Knowing("setpriv", "pdeathsig") is { } setpriv)
        {
            launchers.AddRange([setpriv, "--pdeathsig", "KILL", "--"]);
        }

        if (Knowing("env", "default-signal") is { } env)
        {
            launchers.AddRange([env, "--default-signal=PIPE", "--"]);
        }

        return launchers.Count > 0 && IsProgramOrScript(name, path) ? launchers : [];
    }

    /// <summary>
    /// True for a program (ELF) or a script whose interpreter can run, which the launchers run as
    /// .NET would; false for anything else (an unreadable file, another format the kernel may know):
    /// started as it is, so that the kernel decides, since a launcher's execvp would hand a file the
    /// kernel refuses to /bin/sh.
    /// </summary>
    private static bool IsProgramOrScript(string name, string path)
    {
        if (!PosixFiles.CanExecute(path, out var error))
        {
            throw ChildProcess.Refused(name, error, null);
        }

        Span<byte> head = stackalloc byte[256];
        int read;
        try
        {
            using var file = File.OpenRead(path);
            read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        head = head[..read];
        if (head.StartsWith("\u007fELF"u8))
        {
            return true;
        }

        if (!head.StartsWith("#!"u8))
        {
            return false;
        }

        // "#!/bin/sh -e": the interpreter is the first word; a missing one is "command not found", as before.
        var line = Encoding.UTF8.GetString(head[2..]).Split('\n')[0].Trim();
        var interpreter = line.Split([' ', '\t'], 2)[0];
        if (interpreter.Length > 0 && !PosixFiles.CanExecute(interpreter, out error))
        {
            throw ChildProcess.Refused(name, error, null);
        }

        return interpreter.Length > 0;
    }

    /// <summary>
    /// The program at its usual place, when it knows the option: its name is in the program's table
    /// of long options. An older one would refuse the option and not run the command at all. Read,
    /// not run: asking the program itself cost 70 ms a call.
    /// </summary>
    private static string? Knowing(string program, string option)
    {
        var name = Encoding.ASCII.GetBytes(option + "\0");
        foreach (var directory in (string[])["/usr/bin", "/bin"])
        {
            var path = Path.Combine(directory, program);
            try
            {
                if (File.ReadAllBytes(path).AsSpan().IndexOf(name) >= 0)
                {
                    return path;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not there: the next place.
            }
        }

        return null;
    }
}
