using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Experiments;
using MeshBulkheads.Chaos.Local;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chaos.Tests.Experiments;

/// <summary>
/// The SLO probes of render-cpu-burn and tenant-flood (before and during the fault): slo.yaml's objective per
/// stream, the warm-up left out, the nearest-rank p99 of the OK calls and the success ratio of the offered ones.
/// </summary>
public sealed class SloCheckTests
{
    private static readonly Slo Reads = new() { Name = "payments-getbalance", Route = "/x.PaymentsService/GetBalance", SuccessRatio = 0.999, LatencyP99Seconds = 0.05 };

    [Fact]
    public void ForStreams_TheRepositorysSloFile_ChargesAsChargeOthersAsGetBalance()
    {
        // Arrange
        var slos = SloFile.Load(RepositoryLayout.Root);

        // Act
        var judged = SloCheck.ForStreams(slos, ["acme-charges", "acme-reads", "initech-reads"]);

        // Assert
        Assert.Equal(["acme-charges", "acme-reads", "initech-reads"], judged.Select(j => j.Stream));
        Assert.EndsWith("/Charge", judged[0].Slo.Route, StringComparison.Ordinal);
        Assert.All(judged.Skip(1), j => Assert.EndsWith("/GetBalance", j.Slo.Route, StringComparison.Ordinal));
        Assert.Contains("acme-reads: ok >= 99.9 % of offered, p99 <= 50 ms (slo.yaml payments-getbalance)", SloCheck.Tolerance(judged), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_SlowCallsOnlyDuringTheWarmUp_Met()
    {
        // Arrange: 100 fast calls after the warm-up; the slow ones are meshload's own start.
        var load = Load([.. Calls(20, dueFromMs: 0, latencyMs: 900), .. Calls(100, dueFromMs: 2000, latencyMs: 10)]);

        // Act
        var outcome = SloCheck.Evaluate(load, "reads", Reads);

        // Assert
        Assert.True(outcome.Met, outcome.Output?.ToJsonString());
        Assert.Equal(100, outcome.Output!["offered"]!.GetValue<int>());
        Assert.Equal(10, outcome.Output["p99Ms"]!.GetValue<double>());
    }

    [Fact]
    public void Evaluate_TwoSlowCallsInAHundred_P99IsTheSecondSlowestAndNotMet()
    {
        // Arrange: nearest rank of 0.99 × 100 is the 99th value, so one outlier is forgiven and two are not.
        var load = Load([.. Calls(98, dueFromMs: 2000, latencyMs: 10), .. Calls(1, dueFromMs: 4000, latencyMs: 70), .. Calls(1, dueFromMs: 4100, latencyMs: 80)]);

        // Act
        var outcome = SloCheck.Evaluate(load, "reads", Reads);

        // Assert
        Assert.False(outcome.Met);
        Assert.Equal(70, outcome.Output!["p99Ms"]!.GetValue<double>());
    }

    [Fact]
    public void Evaluate_OneOutlierInAHundred_Met()
    {
        // Arrange
        var load = Load([.. Calls(99, dueFromMs: 2000, latencyMs: 10), .. Calls(1, dueFromMs: 4000, latencyMs: 800)]);

        // Act
        var outcome = SloCheck.Evaluate(load, "reads", Reads);

        // Assert
        Assert.True(outcome.Met, outcome.Output?.ToJsonString());
    }

    [Fact]
    public void Evaluate_OneRejectionInAHundred_SuccessRatioBelowTheObjectiveNotMet()
    {
        // Arrange: fast, but 99 % of offered is under 99.9 %; the rejection is counted by status and reason.
        var load = Load([.. Calls(99, dueFromMs: 2000, latencyMs: 10), .. Calls(1, dueFromMs: 4000, latencyMs: 1, status: "UNAVAILABLE", reason: "queue-full")]);

        // Act
        var outcome = SloCheck.Evaluate(load, "reads", Reads);

        // Assert
        Assert.False(outcome.Met);
        Assert.Equal(0.99, outcome.Output!["successRatio"]!.GetValue<double>());
        Assert.Equal(1, outcome.Output["outcomes"]!["UNAVAILABLE/queue-full"]!.GetValue<int>());
    }

    [Fact]
    public void Evaluate_NoCallsOrNoLoad_NotMet()
    {
        // Act
        var empty = SloCheck.Evaluate(Load([.. Calls(10, dueFromMs: 0, latencyMs: 1)]), "reads", Reads);
        var none = SloCheck.Evaluate(null, "reads", Reads);

        // Assert: every call was in the warm-up, or the load never ran.
        Assert.False(empty.Met);
        Assert.False(none.Met);
    }

    private static LoadResult Load(IReadOnlyList<CallRecord> calls) => new(0, new JsonObject { ["streams"] = new JsonArray() }, calls);

    private static IEnumerable<CallRecord> Calls(int count, double dueFromMs, double latencyMs, string status = "OK", string? reason = null) =>
        Enumerable.Range(0, count).Select(i => new CallRecord("reads", i, dueFromMs + (i * 10), dueFromMs + (i * 10) + latencyMs, 0, status, reason, status, 1, null, null, null, null, null));
}
