namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class AdaptiveBaselineTests
{
    [Fact]
    public void AdaptiveBaseline_ServiceBecomesSlower_ReprobedToTheNewNoLoadLatency()
    {
        // Arrange: 10 ms service time, then 20 ms from completion 3000 on (the service really got slower).
        TimeSpan? before = null;
        TimeSpan? after = null;

        // Act: BaselineInterval is 1 s in the simulation; 6000 more completions are several simulated seconds.
        AdaptiveLimitTests.Simulate(outlierAt: null, completions: 3000, inspect: b => before = b.AdaptiveBaseline);
        AdaptiveLimitTests.Simulate(
            outlierAt: null,
            completions: 9000,
            baseLatencyAt: completed => TimeSpan.FromMilliseconds(completed < 3000 ? 10 : 20),
            inspect: b => after = b.AdaptiveBaseline);

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(10), before);
        Assert.Equal(TimeSpan.FromMilliseconds(20), after);
    }
}
