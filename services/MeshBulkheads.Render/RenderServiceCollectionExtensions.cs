using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Render;
using MeshBulkheads.Render.Budget;
using MeshBulkheads.Render.Internal;
using MeshBulkheads.Render.Streaming;
using MeshBulkheads.Render.Workers;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers render, one method per feature (the same shape as <c>AddPayments()</c> and <c>AddReporting()</c>): what every
/// service registers the same way (<c>AddMeshService</c>: its options and gRPC server), then the <c>render</c> bulkhead
/// and deadlines, and the workers (or the inline pitfall).
/// </summary>
public static class RenderServiceCollectionExtensions
{
    /// <summary>Everything render needs; <see cref="RenderApp"/> calls it after <c>AddServiceDefaults</c>.</summary>
    public static IServiceCollection AddRender(this IServiceCollection services) =>
        services
            // Section Render, validated at start; the gRPC server with a 4 KB message limit (docs/sizing.md).
            .AddMeshService<RenderOptions, RenderOptionsValidator>(RenderOptions.SectionName, receiveMessageKb: _ => 4)
            .AddRenderBulkheads()
            .AddRenderWorkers();

    /// <summary>
    /// The <c>render</c> bulkhead: <c>Bulkheads:render:*</c> over the code defaults (<see cref="RenderBulkheads"/>),
    /// except <c>PermitLimit</c>, derived from <c>Render:WorkerCount</c> (setting it fails at start). Declared, not
    /// mapped: the dispatcher acquires the permit after validation, and the library's start-up check (MaxQueueTime &lt;
    /// the Render default deadline) still covers it. <c>Deadlines:Methods:&lt;prefix&gt;</c> overrides the deadline defaults.
    /// </summary>
    public static IServiceCollection AddRenderBulkheads(this IServiceCollection services)
    {
        services.AddBulkheads()
            .AddBulkhead(RenderBulkheads.Name, o =>
            {
                o.QueueLimit = RenderBulkheads.DefaultQueueLimit;
                o.MaxQueueTime = RenderBulkheads.DefaultMaxQueueTime;
                o.TenantMaxShare = RenderBulkheads.DefaultTenantMaxShare;
            })
            .DeclareMethods(RenderBulkheads.MethodPrefix, RenderBulkheads.Name, new DeadlineOptions { Default = RenderBulkheads.DefaultDeadline, Max = RenderBulkheads.MaxDeadline });

        // The one derived value, applied last (a post-configure step registered after AddBulkheads' own): its own key is
        // refused, and Mesh:Pitfalls:NoBulkheads (the library's post-configure step, which runs first) lifts only the queue,
        // because these permits are the worker threads, a physical resource.
        services.AddOptions<BulkheadOptions>(RenderBulkheads.Name)
            .PostConfigure<IOptions<RenderOptions>>((bulkhead, render) => bulkhead.PermitLimit = render.Value.EffectiveWorkers);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BulkheadOptions>, RenderBulkheadValidation>());
        return services;
    }

    /// <summary>The dispatcher, the worker pool (or the inline pitfall, <c>Render:Pitfalls:Inline</c>), the work budget and the metrics.</summary>
    public static IServiceCollection AddRenderWorkers(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRenderJobObserver, NullRenderJobObserver>();
        services.TryAddSingleton<RenderMetrics>();
        services.TryAddSingleton<RenderWorkerPool>();
        services.TryAddSingleton<InlineRenderExecutor>();
        services.TryAddSingleton<TenantWorkBudget>();
        services.TryAddSingleton<RenderDispatcher>();
        services.TryAddSingleton<RenderRowStreamer>();
        // The dispatcher (and with it the worker threads and the gauges) is created when the host starts, not by the first request.
        services.AddHostedService<RenderWorkersStartup>();
        // Decided when first resolved (not at registration) so configuration added later by the
        // host or a test is honoured. The pool's threads start only when the pool is chosen.
        services.TryAddSingleton<IRenderExecutor>(sp =>
            sp.GetRequiredService<IOptions<RenderOptions>>().Value.Pitfalls.Inline
                ? sp.GetRequiredService<InlineRenderExecutor>()
                : sp.GetRequiredService<RenderWorkerPool>());
        return services;
    }
}
