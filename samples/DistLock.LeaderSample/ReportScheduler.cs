using DistLock;

/// <summary>
/// Work that must run on one instance only: it "publishes" a report every half second, stamped with
/// its term's fencing token, until leadership ends.
/// </summary>
internal sealed class ReportScheduler(InstanceName instance, PublishedReports reports) : ILeaderWork
{
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        Console.WriteLine($"{instance.Value}: leading, term {term.FencingToken}");
        try
        {
            while (true)
            {
                reports.Publish(instance.Value, term.FencingToken);
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"{instance.Value}: no longer leading (term {term.FencingToken})");
        }
    }
}
