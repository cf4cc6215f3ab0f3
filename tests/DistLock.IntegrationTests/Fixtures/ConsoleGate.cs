namespace DistLock.IntegrationTests.Fixtures;

/// <summary>
/// The process has one <see cref="Console.Out"/>: a test that captures it and a fixture that silences
/// it, in collections running at once, would each restore the other's writer. Whoever swaps it holds this.
/// </summary>
internal static class ConsoleGate
{
    public static readonly SemaphoreSlim Swap = new(1, 1);
}
