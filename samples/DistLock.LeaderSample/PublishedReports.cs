using System.Collections.Concurrent;

/// <summary>What the instances published, in order: the sample checks that terms never overlap.</summary>
internal sealed class PublishedReports
{
    private readonly ConcurrentQueue<(string Instance, long Term)> _published = new();

    public void Publish(string instance, long term) => _published.Enqueue((instance, term));

    public IReadOnlyList<(string Instance, long Term)> InOrder => [.. _published];
}

/// <summary>Which of the sample's instances a service belongs to.</summary>
internal sealed record InstanceName(string Value);
