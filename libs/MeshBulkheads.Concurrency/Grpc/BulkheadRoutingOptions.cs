namespace MeshBulkheads.Concurrency.Grpc;

/// <summary>Which bulkhead guards which gRPC methods; bound from <c>Bulkheads:Routes</c> (method prefix → bulkhead name).</summary>
/// <remarks>
/// The longest prefix of the full method name (<c>/package.Service/Method</c>) wins; <c>*</c> matches every method.
/// Methods with no route are not gated. Health (<c>/grpc.health.v1.Health/</c>) and reflection are never gated.
/// </remarks>
public sealed class BulkheadRoutingOptions
{
    /// <summary>The sub-key of <c>Bulkheads</c> holding the routes.</summary>
    public const string RoutesKey = "Routes";

    /// <summary>The configuration section of the routes.</summary>
    public const string SectionName = "Bulkheads:Routes";

    /// <summary>
    /// The old key of the default criticality (now <c>Criticality:Default</c>, <see cref="Rejections.CriticalityOptions"/>), still
    /// reserved so it is never taken for a bulkhead's name; a configured value fails the start naming the new key.
    /// </summary>
    public const string DefaultCriticalityKey = "DefaultCriticality";

    /// <summary>The prefix that matches every method.</summary>
    public const string CatchAll = "*";

    /// <summary>Gets the routes: method prefix → bulkhead name.</summary>
    /// <value>Empty by default (nothing is gated).</value>
    public Dictionary<string, string> Routes { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Methods that acquire a bulkhead in their own code (after validating the request, say) rather than through
    /// the interceptor: method prefix → bulkhead name. They are not gated by <c>BulkheadInterceptor</c>; they are
    /// declared so the start-up checks (<c>MaxQueueTime</c> &lt; the method's default deadline) cover them too.
    /// </summary>
    /// <value>Empty by default; filled by <c>IBulkheadsBuilder.DeclareMethods</c>.</value>
    public Dictionary<string, string> Declared { get; } = new(StringComparer.Ordinal);

    /// <summary>Every method prefix with a bulkhead: the routes, and the declared methods a route does not already cover.</summary>
    /// <returns>Prefix → bulkhead name pairs.</returns>
    public IEnumerable<KeyValuePair<string, string>> RoutedOrDeclared() =>
        Routes.Concat(Declared.Where(d => !Routes.ContainsKey(d.Key)));

    /// <summary>Returns the bulkhead name for a full method name, or null when no route matches.</summary>
    /// <param name="method">The full method name.</param>
    /// <returns>The bulkhead name, or null.</returns>
    public string? Resolve(string method)
    {
        string? best = null;
        var bestLength = -1;
        foreach (var (prefix, name) in Routes)
        {
            if (prefix == CatchAll)
            {
                if (bestLength < 0)
                {
                    best = name;
                    bestLength = 0;
                }
            }
            else if (prefix.Length > bestLength && method.StartsWith(prefix, StringComparison.Ordinal))
            {
                best = name;
                bestLength = prefix.Length;
            }
        }

        return best;
    }
}
