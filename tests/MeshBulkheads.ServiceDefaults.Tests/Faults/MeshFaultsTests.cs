using MeshBulkheads.ServiceDefaults.Faults;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.ServiceDefaults.Tests.Faults;

/// <summary>The live fault state: matching, server-side expiry on the fake clock, generations, permanent faults.</summary>
public sealed class MeshFaultsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Find_AfterExpiry_NothingActiveWithoutAnyoneDeletingIt()
    {
        // Arrange
        var time = new FakeTimeProvider(Start);
        var faults = Create(time);
        faults.Replace([Fault(FaultKinds.Latency, FaultTargets.Store, expiresAt: Start.AddMinutes(5))], "t1");

        // Act
        var before = faults.Find(FaultTargets.Store, FaultKinds.Latency, "/p.S/M");
        time.Advance(TimeSpan.FromMinutes(5));
        var after = faults.Find(FaultTargets.Store, FaultKinds.Latency, "/p.S/M");

        // Assert
        Assert.NotNull(before);
        Assert.Null(after);
        Assert.Empty(faults.Active());
        Assert.Equal(1, faults.Generation);
    }

    [Fact]
    public void Find_TargetKindAndMethodPrefix_OnlyMatchingCalls()
    {
        // Arrange
        var faults = Create(new FakeTimeProvider(Start));
        faults.Replace([Fault(FaultKinds.Error, FaultTargets.Server, "/meshbulkheads.payments.v1.PaymentsService/Charge", Start.AddMinutes(1))], null);

        // Act + Assert
        Assert.NotNull(faults.Find(FaultTargets.Server, FaultKinds.Error, "/meshbulkheads.payments.v1.PaymentsService/Charge"));
        Assert.Null(faults.Find(FaultTargets.Server, FaultKinds.Error, "/meshbulkheads.payments.v1.PaymentsService/GetBalance"));
        Assert.Null(faults.Find(FaultTargets.Store, FaultKinds.Error, "/meshbulkheads.payments.v1.PaymentsService/Charge"));
        Assert.Null(faults.Find(FaultTargets.Server, FaultKinds.Latency, "/meshbulkheads.payments.v1.PaymentsService/Charge"));
    }

    [Fact]
    public void Replace_EachChange_GrowsTheGenerationGauge()
    {
        // Arrange
        var meters = new TestMeterFactory();
        var faults = new MeshFaults(new FakeTimeProvider(Start), meters, NullLogger<MeshFaults>.Instance, []);
        using var generation = new MetricCollector<long>(meters, MeshFaults.MeterName, "meshbulkheads.faults.generation");

        // Act
        faults.Replace([Fault(FaultKinds.Cpu, FaultTargets.Server, expiresAt: Start.AddMinutes(1))], "t1");
        faults.Replace([], "t1");
        generation.RecordObservableInstruments();

        // Assert
        Assert.Equal(2, generation.LastMeasurement!.Value);
    }

    [Fact]
    public void Active_PermanentConfiguredFault_NeverExpires()
    {
        // Arrange: payments' ExtraQueryLatency pitfall.
        var time = new FakeTimeProvider(Start);
        var faults = new MeshFaults(time, new TestMeterFactory(), NullLogger<MeshFaults>.Instance, [new Configured(Fault(FaultKinds.Latency, FaultTargets.Store, expiresAt: null))]);

        // Act
        time.Advance(TimeSpan.FromDays(30));

        // Assert
        Assert.NotNull(faults.Find(FaultTargets.Store, FaultKinds.Latency, null));
        Assert.Single(faults.Active());
    }

    private static MeshFaults Create(TimeProvider time) => new(time, new TestMeterFactory(), NullLogger<MeshFaults>.Instance, []);

    private static FaultSpec Fault(string kind, string target, string prefix = "", DateTimeOffset? expiresAt = null) =>
        new() { Kind = kind, Target = target, MethodPrefix = prefix, LatencyMs = 10, CpuMs = 1, ExpiresAt = expiresAt };

    private sealed record Configured(FaultSpec? Fault) : IConfiguredFault;
}
