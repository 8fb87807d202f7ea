using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MeshBulkheads.Render.Tests.Workers;

/// <summary>
/// What the executor tests arrange alike: a fake clock, a recording observer (optionally gated), real
/// render metrics on their own meter factory, and the executors built on them.
/// </summary>
internal sealed class RenderExecutorHarness : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly List<IDisposable> _owned = [];

    public RenderExecutorHarness(bool gated = false)
    {
        Observer = new RecordingRenderObserver(gated);
        MeterFactory = _services.GetRequiredService<IMeterFactory>();
        Metrics = new RenderMetrics(MeterFactory);
    }

    public FakeTimeProvider Time { get; } = new();

    public RecordingRenderObserver Observer { get; }

    public IMeterFactory MeterFactory { get; }

    public RenderMetrics Metrics { get; }

    /// <summary>A pool of one worker on the harness's clock (disposed with the harness).</summary>
    public RenderWorkerPool CreatePool() =>
        Own(new RenderWorkerPool(Options.Create(new RenderOptions { WorkerCount = 1 }), Observer, Metrics, Time));

    public InlineRenderExecutor CreateInline() => new(Observer, Metrics, Time);

    /// <summary>Collects <paramref name="instrument"/> of the render meter (disposed with the harness).</summary>
    public MetricCollector<long> Collect(string instrument) => Own(new MetricCollector<long>(MeterFactory, RenderMetrics.MeterName, instrument));

    public void Dispose()
    {
        // The pool first: its workers report to the observer and the metrics.
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        Observer.Dispose();
        _services.Dispose();
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
