using MeshBulkheads.Concurrency.Bulkheads;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers named bulkheads and gRPC routes to them; returned by <c>services.AddBulkheads()</c>.</summary>
public interface IBulkheadsBuilder
{
    /// <summary>Gets the service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// Adds a bulkhead. Code defaults come from <paramref name="configure"/>; configuration section
    /// <c>Bulkheads:&lt;name&gt;</c> overrides them; the result is validated at start-up.
    /// </summary>
    /// <param name="name">A unique name (case-insensitive); also the metric label.</param>
    /// <param name="configure">Code defaults, or null.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">The name is already registered.</exception>
    IBulkheadsBuilder AddBulkhead(string name, Action<BulkheadOptions>? configure = null);

    /// <summary>
    /// Routes gRPC methods whose full name starts with <paramref name="methodPrefix"/> (e.g.
    /// <c>/meshbulkheads.render.v1.RenderService/</c>, or <c>*</c> for every method) to a bulkhead, for
    /// <see cref="MeshBulkheads.Concurrency.Grpc.BulkheadInterceptor"/>. Configuration <c>Bulkheads:Routes</c> adds to and overrides these.
    /// </summary>
    /// <param name="methodPrefix">The method prefix; the longest matching prefix wins.</param>
    /// <param name="bulkheadName">A registered bulkhead.</param>
    /// <returns>This builder.</returns>
    IBulkheadsBuilder MapMethods(string methodPrefix, string bulkheadName);
}
