namespace DistLock.Benchmarks.Scenarios;

/// <summary>What one library did in one scenario.</summary>
public sealed record ScenarioResult(string Scenario, string Row, IReadOnlyDictionary<string, string> Metrics);
