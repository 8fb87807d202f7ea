using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Render;
using MeshBulkheads.Render.Workers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the render pipeline: options, the <c>render</c> bulkhead, deadlines, metrics, the worker pool or the inline pitfall.</summary>
public static class RenderServiceCollectionExtensions
{
    /// <summary>The bulkhead every render is admitted through (the metric label <c>meshbulkheads_bulkhead="render"</c>).</summary>
    public const string BulkheadName = "render";

    /// <summary>The gRPC method prefix the deadline policy applies to.</summary>
    public const string MethodPrefix = "/meshbulkheads.render.v1.RenderService/";

    /// <summary>Default deadline of a Render call without <c>grpc-timeout</c>: a large render takes seconds on one worker.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(10);

    /// <summary>The longest deadline a Render caller may ask for.</summary>
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromSeconds(60);

    public static IServiceCollection AddRenderServices(this IServiceCollection services)
    {
        services.AddOptions<RenderOptions>()
            .BindConfiguration(RenderOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RenderOptions>, RenderOptionsValidator>());

        // Render's own keys are the source of truth for the permits (= worker threads), the queue and the
        // queue time; they are applied after Bulkheads:render is bound, so the two cannot disagree.
        // Declared, not mapped: the dispatcher acquires the permit after validation, and the library's start-up
        // check (MaxQueueTime < the Render default deadline) still covers it. Deadlines:Methods:<prefix> in
        // configuration overrides the code defaults.
        services.AddBulkheads()
            .AddBulkhead(BulkheadName)
            .DeclareMethods(MethodPrefix, BulkheadName, new DeadlineOptions { Default = DefaultDeadline, Max = MaxDeadline });
        services.AddOptions<BulkheadOptions>(BulkheadName).PostConfigure<IOptions<RenderOptions>>((bulkhead, render) =>
        {
            var workers = render.Value.EffectiveWorkers;
            bulkhead.PermitLimit = workers;
            bulkhead.QueueLimit = render.Value.QueueLimit;
            bulkhead.MaxQueueTime = render.Value.MaxQueueTime;

            // Render:Pitfalls:UnboundedQueue is the library's pitfall, kept under render's own key.
            bulkhead.Pitfalls.UnboundedQueue |= render.Value.Pitfalls.UnboundedQueue;

            // More permits than threads would queue admitted jobs a second time, invisibly.
            bulkhead.AdaptiveLimit.MaxLimit = Math.Min(bulkhead.AdaptiveLimit.MaxLimit, workers);
            bulkhead.AdaptiveLimit.MinLimit = Math.Min(bulkhead.AdaptiveLimit.MinLimit, workers);
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRenderJobObserver, NullRenderJobObserver>();
        services.TryAddSingleton<RenderMetrics>();
        services.TryAddSingleton<RenderWorkerPool>();
        services.TryAddSingleton<InlineRenderExecutor>();
        services.TryAddSingleton<RenderDispatcher>();
        // Decided when first resolved (not at registration) so configuration added later by the
        // host or a test is honoured. The pool's threads start only when the pool is chosen.
        services.TryAddSingleton<IRenderExecutor>(sp =>
            sp.GetRequiredService<IOptions<RenderOptions>>().Value.Inline
                ? sp.GetRequiredService<InlineRenderExecutor>()
                : sp.GetRequiredService<RenderWorkerPool>());
        return services;
    }
}
