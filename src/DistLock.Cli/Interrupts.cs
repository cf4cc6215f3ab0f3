using System.Runtime.InteropServices;

namespace DistLock.Cli;

/// <summary>
/// SIGINT and SIGTERM, as distlock handles them: while a command of <c>exec</c> runs they are
/// passed on to it; otherwise they cancel what distlock is doing (waiting for a lock, serving, a
/// demo), which then cleans up and exits with 130 or 143 like a shell.
/// </summary>
/// <remarks>
/// Ctrl+C at a terminal sends SIGINT to the whole foreground process group, which the command is
/// in (it is started in distlock's group, so it can read the terminal). Passing that SIGINT on
/// as well would deliver it twice. So, as under flock or timeout, a SIGINT that arrives while
/// distlock is in its terminal's foreground group is taken to be the terminal's, which the
/// command has already received, and is not forwarded. SIGTERM is always forwarded: terminals
/// never send it.
/// </remarks>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _gate = new();
    private Action<int>? _forward;

    public Interrupts()
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, PosixSignals.SigInt)));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, PosixSignals.SigTerm)));
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>The signal that cancelled <see cref="Token"/>, if any.</summary>
    public int? Received { get; private set; }

    /// <summary>The exit code for an interrupted run: 128 + the signal.</summary>
    public int ExitCode => 128 + (Received ?? PosixSignals.SigInt);

    /// <summary>
    /// From now on, pass signals to <paramref name="forward"/> instead of cancelling; a signal that
    /// arrived just before (while the command was being started) is passed on at once.
    /// </summary>
    public void ForwardTo(Action<int> forward)
    {
        lock (_gate)
        {
            _forward = forward;

            // The command did not exist yet when this one arrived, so the terminal did not reach it.
            if (Received is { } early)
            {
                forward(early);
            }
        }
    }

    public void Dispose()
    {
        _registrations.ForEach(r => r.Dispose());
        _cancel.Dispose();
    }

    private static bool FromTerminal(int signal) => signal == PosixSignals.SigInt && PosixSignals.InForegroundOfTerminal();

    private void OnSignal(PosixSignalContext context, int signal)
    {
        context.Cancel = true;
        lock (_gate)
        {
            if (_forward is { } forward)
            {
                if (!FromTerminal(signal))
                {
                    forward(signal);
                }

                return;
            }

            Received ??= signal;
        }

        _cancel.Cancel();
    }
}
