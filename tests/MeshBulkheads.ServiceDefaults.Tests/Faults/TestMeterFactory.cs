using System.Diagnostics.Metrics;

namespace MeshBulkheads.ServiceDefaults.Tests.Faults;

/// <summary>A meter factory for state objects built outside a host (their meters disposed with it).</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose() => _meters.ForEach(m => m.Dispose());
}
