using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using MeshBulkheads.Concurrency.Bulkheads;
using Microsoft.Extensions.DependencyInjection;

namespace MeshBulkheads.Benchmarks;

/// <summary>
/// Uncontended acquire + release: the bulkhead (metrics on, a listener enabled on every instrument)
/// against System.Threading.RateLimiting.ConcurrencyLimiter as the baseline.
/// </summary>
[MemoryDiagnoser]
public class AcquireReleaseBenchmarks
{
    private ServiceProvider _services = null!;
    private Bulkhead _bulkhead = null!;
    private ConcurrencyLimiter _limiter = null!;
    private MeterListener _listener = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection()
            .AddBulkheads()
            .AddBulkhead("bench", o =>
            {
                o.PermitLimit = 64;
                o.QueueLimit = 64;
            })
            .Services.BuildServiceProvider();
        _bulkhead = _services.GetRequiredService<IBulkheadProvider>().Get("bench");
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 64, QueueLimit = 64 });

        // "Metrics on": every bulkhead instrument has a listener, so each recording really happens.
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == BulkheadConstants.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _listener.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.Dispose();
        _limiter.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool ConcurrencyLimiter_AttemptAcquire()
    {
        using var lease = _limiter.AttemptAcquire();
        return lease.IsAcquired;
    }

    [Benchmark]
    public bool Bulkhead_AttemptAcquire()
    {
        using var lease = _bulkhead.AttemptAcquire();
        return lease.IsAcquired;
    }

    [Benchmark]
    public bool Bulkhead_AcquireAsync_Request()
    {
        // Uncontended: completes synchronously (checked), so reading the result does not block.
        var pending = _bulkhead.AcquireAsync(new BulkheadRequest(Tenant: "t1"));
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The uncontended path must complete synchronously.");
        }

        using var lease = pending.Result;
        return lease.IsAcquired;
    }
}
