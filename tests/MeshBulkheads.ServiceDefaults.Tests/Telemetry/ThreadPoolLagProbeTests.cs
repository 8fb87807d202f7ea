using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.ServiceDefaults.Tests.Telemetry;

public class ThreadPoolLagProbeTests
{
    [Fact]
    public void Probe_WorkItemRunsLate_RecordsHowLate()
    {
        // Arrange
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var time = new FakeTimeProvider();
        var queued = new Queue<Action>();
        using var probe = new ThreadPoolLagProbe(meterFactory, time, queued.Enqueue);
        using var collector = new MetricCollector<double>(meterFactory, MeshTelemetry.Prefix + ".Runtime", ThreadPoolLagProbe.InstrumentName);

        // Act: the "pool" is busy for 250 ms before it runs the probe.
        probe.Probe();
        time.Advance(TimeSpan.FromMilliseconds(250));
        queued.Dequeue()();

        // Assert
        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal(0.25, measurement.Value, precision: 6);
    }

    [Fact]
    public void Probe_WorkItemNotYetRun_RecordsNothing()
    {
        // Arrange
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var queued = new Queue<Action>();
        using var probe = new ThreadPoolLagProbe(meterFactory, new FakeTimeProvider(), queued.Enqueue);
        using var collector = new MetricCollector<double>(meterFactory, MeshTelemetry.Prefix + ".Runtime", ThreadPoolLagProbe.InstrumentName);

        // Act
        probe.Probe();

        // Assert: lag is only known once the starved pool gets to the item.
        Assert.Empty(collector.GetMeasurementSnapshot());
        Assert.Single(queued);
    }
}
