using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Thresholds;

namespace MeshBulkheads.LoadGen.Tests.Thresholds;

public class ThresholdTests
{
    [Theory]
    [InlineData("payments:p99<50ms", true)]
    [InlineData("payments:p99<40ms", false)]
    [InlineData("payments:p99.9<=0.1s", true)]
    [InlineData("payments:ok>=99%", false)]
    [InlineData("payments:ok>=98%", true)]
    [InlineData("payments:rejected<=1%", true)]
    [InlineData("payments:rejected.queue-full==1", true)]
    [InlineData("payments:rejected.rate-limited>0", false)]
    [InlineData("payments:goodput>=98/s", true)]
    [InlineData("payments:errors==0", true)]
    [InlineData("*:max<200ms", true)]
    public void Evaluate_Result_PassesOrFails(string text, bool expected)
    {
        // Arrange: 100 offered, 98 OK, 1 queue-full, 1 deadline; p99 45 ms, p99.9 90 ms.
        var threshold = Threshold.Parse(text);

        // Act
        var verdict = Assert.Single(threshold.Evaluate([Result("payments")]));

        // Assert
        Assert.Equal(expected, verdict.Passed);
    }

    [Fact]
    public void Evaluate_Failed_NamesThresholdAndActual()
    {
        // Act
        var verdict = Assert.Single(Threshold.Parse("payments:p99<40ms").Evaluate([Result("payments"), Result("reporting")]));

        // Assert
        Assert.Equal("payments:p99<40ms", verdict.Threshold);
        Assert.Equal("45ms", verdict.Actual);
    }

    [Fact]
    public void Evaluate_Wildcard_OneVerdictPerStreamNamedByStream()
    {
        // Act
        var verdicts = Threshold.Parse("*:ok>=99%").Evaluate([Result("payments"), Result("reporting")]).ToList();

        // Assert
        Assert.Equal(["payments:ok>=99%", "reporting:ok>=99%"], verdicts.Select(v => v.Threshold));
        Assert.All(verdicts, v => Assert.False(v.Passed));
    }

    [Theory]
    [InlineData("payments p99<50ms", "is not stream:metric<op>value")]
    [InlineData("payments:p42<50ms", "unknown metric 'p42'")]
    [InlineData("payments:p99<50", "needs a unit")]
    [InlineData("payments:ok>=120%", "percentage 0–100%")]
    [InlineData("payments:goodput>50%", "takes a number")]
    public void Parse_Malformed_BadInput(string text, string expected)
    {
        // Act
        var error = Assert.Throws<BadInputException>(() => Threshold.Parse(text));

        // Assert
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    internal static StreamResult Result(string name) => new()
    {
        Name = name,
        Method = "GetBalance",
        Mode = "open-loop",
        TargetRate = 100,
        Offered = 100,
        Completed = 100,
        Ok = 98,
        Rejected = 1,
        DeadlineExceeded = 1,
        Outcomes = new(StringComparer.Ordinal) { ["OK"] = 98, ["UNAVAILABLE/queue-full"] = 1, ["DEADLINE_EXCEEDED"] = 1 },
        OfferedRate = 100,
        Goodput = 98,
        LatencyMs = new LatencySummary(98, 5, 20, 45, 90, 120, 8),
        RejectedLatencyMs = new LatencySummary(1, 1, 1, 1, 1, 1, 1),
        SchedulingLagMs = new LatencySummary(100, 0.1, 0.2, 0.5, 1, 2, 0.1),
    };
}
