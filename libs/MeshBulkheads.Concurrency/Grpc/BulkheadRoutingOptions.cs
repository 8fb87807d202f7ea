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
    public const string ConfigurationSection = "Bulkheads:Routes";

    /// <summary>The prefix that matches every method.</summary>
    public const string CatchAll = "*";

    /// <summary>Gets the routes: method prefix → bulkhead name.</summary>
    /// <value>Empty by default (nothing is gated).</value>
    public Dictionary<string, string> Routes { get; } = new(StringComparer.Ordinal);

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
