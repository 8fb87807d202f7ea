using MeshBulkheads.Render;
using MeshBulkheads.Render.Workers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the render pipeline: options, metrics, the worker pool or the inline pitfall.</summary>
public static class RenderServiceCollectionExtensions
{
    public static IServiceCollection AddRenderServices(this IServiceCollection services)
    {
        services.AddOptions<RenderOptions>()
            .BindConfiguration(RenderOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RenderOptions>, RenderOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRenderJobObserver, NullRenderJobObserver>();
        services.TryAddSingleton<RenderMetrics>();
        services.TryAddSingleton<RenderWorkerPool>();
        services.TryAddSingleton<InlineRenderDispatcher>();
        // Decided when first resolved (not at registration) so configuration added later by the
        // host or a test is honoured. The pool's threads start only when the pool is chosen.
        services.TryAddSingleton<IRenderDispatcher>(sp =>
            sp.GetRequiredService<IOptions<RenderOptions>>().Value.Inline
                ? sp.GetRequiredService<InlineRenderDispatcher>()
                : sp.GetRequiredService<RenderWorkerPool>());
        return services;
    }
}
