using MeshBulkheads.Render.Internal;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// Creates the dispatcher when the host starts: the render worker threads (when the pool is chosen) and the
/// render gauges exist from start-up, and no thread is ever created inside a request. Logs the bulkhead's
/// permit limit and where it comes from (<c>Render:WorkerCount</c>), since it is not a key of its own.
/// </summary>
public sealed class RenderWorkersStartup(IServiceProvider services, IOptions<RenderOptions> options, ILogger<RenderWorkersStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var dispatcher = services.GetRequiredService<RenderDispatcher>();
        var bulkhead = dispatcher.Bulkhead.Options;
        RenderStartupLog.BulkheadDerived(
            logger,
            dispatcher.Bulkhead.Name,
            bulkhead.PermitLimit,
            options.Value.WorkerCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? $"default, processors − 1 = {options.Value.EffectiveWorkers}",
            bulkhead.QueueLimit,
            bulkhead.MaxQueueTime);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
