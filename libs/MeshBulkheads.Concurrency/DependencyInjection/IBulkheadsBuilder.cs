using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;

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

    /// <summary>
    /// Routes methods to a bulkhead (as <see cref="MapMethods(string, string)"/>) and gives them a code deadline
    /// default (as <see cref="AddDeadline"/>).
    /// </summary>
    /// <param name="methodPrefix">The method prefix.</param>
    /// <param name="bulkheadName">A registered bulkhead.</param>
    /// <param name="deadline">The methods' default and maximum deadline.</param>
    /// <returns>This builder.</returns>
    IBulkheadsBuilder MapMethods(string methodPrefix, string bulkheadName, DeadlineOptions deadline);

    /// <summary>
    /// Declares that methods use a bulkhead they acquire in their own code (not through the interceptor, e.g.
    /// after validating the request), so the start-up checks (<c>MaxQueueTime</c> &lt; the methods' default
    /// deadline ≤ max) cover them. The interceptor does not gate them.
    /// </summary>
    /// <param name="methodPrefix">The method prefix.</param>
    /// <param name="bulkheadName">A registered bulkhead.</param>
    /// <returns>This builder.</returns>
    IBulkheadsBuilder DeclareMethods(string methodPrefix, string bulkheadName);

    /// <summary>Declares methods (as <see cref="DeclareMethods(string, string)"/>) and gives them a code deadline default.</summary>
    /// <param name="methodPrefix">The method prefix.</param>
    /// <param name="bulkheadName">A registered bulkhead.</param>
    /// <param name="deadline">The methods' default and maximum deadline.</param>
    /// <returns>This builder.</returns>
    IBulkheadsBuilder DeclareMethods(string methodPrefix, string bulkheadName, DeadlineOptions deadline);

    /// <summary>
    /// A code default for <c>Deadlines:Methods:&lt;methodPrefix&gt;</c>. Configuration overrides it key by key
    /// (<c>Deadlines:Methods:&lt;prefix&gt;:Default</c> alone keeps the code's <c>Max</c>).
    /// </summary>
    /// <param name="methodPrefix">The method prefix; the longest matching prefix wins.</param>
    /// <param name="deadline">The default and maximum deadline; copied.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">A default for the prefix is already registered.</exception>
    IBulkheadsBuilder AddDeadline(string methodPrefix, DeadlineOptions deadline);
}
