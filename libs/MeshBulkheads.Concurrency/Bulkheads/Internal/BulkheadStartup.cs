using MeshBulkheads.Concurrency.Deadlines.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// Creates every registered bulkhead and the deadline policy monitor when the host starts (before other hosted
/// services and the server), under the host's ExecutionContext: nothing long-lived is created inside, and captures
/// the context of, the first request; and every bulkhead's gauges (queue age, permit limit) exist from start.
/// With <c>Mesh:Pitfalls:NoBulkheads</c> on it says so, loudly, once per process.
/// </summary>
internal sealed class BulkheadStartup(BulkheadProvider provider, DeadlinePolicyMonitor deadlines, IOptions<MeshPitfallOptions> pitfalls, ILogger<Bulkhead> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Resolving the two singletons (constructor parameters) is the work: the provider creates every bulkhead.
        GC.KeepAlive(provider);
        GC.KeepAlive(deadlines);
        if (pitfalls.Value.NoBulkheads)
        {
            var limits = string.Join(", ", provider.Names.Order(StringComparer.Ordinal).Select(n => $"{n} {provider.Get(n).PermitLimit}"));
            BulkheadLog.NoBulkheads(logger, MeshPitfallOptions.NoBulkheadsKey, limits.Length == 0 ? "none yet" : limits);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
