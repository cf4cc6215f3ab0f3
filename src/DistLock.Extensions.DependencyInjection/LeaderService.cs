using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DistLock;

/// <summary>
/// Campaigns for one election while the host runs, runs the work while it leads, and campaigns
/// again after a loss; resigns when the host stops. One per election name.
/// </summary>
internal sealed class LeaderService : BackgroundService
{
    private readonly IServiceProvider _services;
    private readonly Func<IServiceProvider, LeadershipTerm, CancellationToken, Task> _work;
    private readonly LeaderServiceOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private LeaderElection? _election;
    private LeadershipTerm? _term;

    public LeaderService(IServiceProvider services, string name, Func<IServiceProvider, LeadershipTerm, CancellationToken, Task> work, LeaderServiceOptions options)
    {
        _services = services;
        Name = name;
        _work = work;
        _options = options;
        _logger = services.GetService<ILoggerFactory>()?.CreateLogger("DistLock.LeaderService") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _clock = services.GetService<TimeProvider>() ?? TimeProvider.System;
    }

    public string Name { get; }

    /// <summary>The election, once the service has started.</summary>
    public LeaderElection? Election => Volatile.Read(ref _election);

    /// <summary>The term the work last ran for (ended or not), or null before the first.</summary>
    public LeadershipTerm? Term => Volatile.Read(ref _term);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var locks = _services.GetRequiredService<ILockManager>();
        await using var election = locks.CreateElection(Name, ElectionOptions(locks));
        Volatile.Write(ref _election, election);
        while (!stoppingToken.IsCancellationRequested)
        {
            LeadershipTerm term;
            try
            {
                term = await election.WaitForLeadershipAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            if (await RunTermAsync(term, stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await Task.Delay(_options.RestartDelay, _clock, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// The election's settings, with the holder label of DistLock's settings when they name none:
    /// AddDistLock's manager waits for the connection and hands each call on, so it is no
    /// <see cref="LockManager"/> whose default label CreateElection could read, and the leader would
    /// show as host and pid instead of the label the application configured.
    /// </summary>
    private LeaderElectionOptions ElectionOptions(ILockManager locks)
    {
        if (locks is not LockManager && _options.Election.HolderLabel is null
            && _services.GetService<IOptions<DistLockSettings>>()?.Value.Defaults.HolderLabel is { } label)
        {
            _options.Election.HolderLabel = label;
        }

        return _options.Election;
    }

    /// <summary>Runs the work for one term and resigns it; true when the work ended the term (returned or threw) rather than a loss or the host stopping.</summary>
    private async Task<bool> RunTermAsync(LeadershipTerm term, CancellationToken stoppingToken)
    {
        await using (term.ConfigureAwait(false))
        {
            Volatile.Write(ref _term, term);
            LeaderServiceLog.Leading(_logger, Name, term.FencingToken);
            using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, term.Lost);
            try
            {
                var scope = _services.CreateAsyncScope();
                await using (scope.ConfigureAwait(false))
                {
                    await _work(scope.ServiceProvider, term, running.Token).ConfigureAwait(false);
                }

                if (running.IsCancellationRequested)
                {
                    return Ended(term, stoppingToken);
                }

                LeaderServiceLog.WorkReturned(_logger, Name, term.FencingToken, _options.RestartDelay);
                return true;
            }
            catch (OperationCanceledException) when (running.IsCancellationRequested)
            {
                return Ended(term, stoppingToken);
            }
#pragma warning disable CA1031 // the work's failure ends its term, never the host: it is logged and the service campaigns again
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LeaderServiceLog.WorkFailed(_logger, ex, Name, term.FencingToken, _options.RestartDelay);
                return true;
            }
        }
    }

    private bool Ended(LeadershipTerm term, CancellationToken stoppingToken)
    {
        if (!stoppingToken.IsCancellationRequested)
        {
            LeaderServiceLog.Lost(_logger, Name, term.FencingToken);
        }

        return false;
    }
}
