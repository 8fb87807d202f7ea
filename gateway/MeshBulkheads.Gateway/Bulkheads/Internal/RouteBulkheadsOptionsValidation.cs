using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Gateway.Bulkheads.Internal;

/// <summary>
/// What the generated validators cannot reach: each route's settings (a dictionary) and the derived keys, which
/// must not be set directly. Every failure names the configuration path.
/// </summary>
internal sealed class RouteBulkheadsOptionsValidation(IConfiguration configuration) : IValidateOptions<RouteBulkheadsOptions>
{
    private static readonly RouteBulkheadOptionsValidator s_route = new();

    public ValidateOptionsResult Validate(string? name, RouteBulkheadsOptions options)
    {
        var failures = new List<string>();
        foreach (var (route, settings) in options.Routes)
        {
            failures.AddRange(Check(route, settings, configuration));
        }

        // A route bulkhead's derived keys set for a route with no settings of its own.
        foreach (var bulkhead in configuration.GetSection(BulkheadConstants.SectionName).GetChildren())
        {
            if (RouteBulkheads.TryGetRouteId(bulkhead.Key, out var route) && !options.Routes.ContainsKey(route))
            {
                failures.AddRange(DerivedKeysSetDirectly(route, configuration));
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>One route's failures: its own settings' ranges, and its bulkhead's derived keys set directly.</summary>
    public static IEnumerable<string> Check(string route, RouteBulkheadOptions settings, IConfiguration configuration)
    {
        var result = s_route.Validate(null, settings);
        var failures = result.Failed
            ? result.Failures.Select(f => $"{RouteBulkheadsOptions.SectionName}:{route}: {f}").ToList()
            : [];
        failures.AddRange(DerivedKeysSetDirectly(route, configuration));
        return failures;
    }

    private static IEnumerable<string> DerivedKeysSetDirectly(string route, IConfiguration configuration)
    {
        var bulkhead = configuration.GetSection($"{BulkheadConstants.SectionName}:{RouteBulkheads.NameOf(route)}");
        if (bulkhead["PermitLimit"] is not null)
        {
            yield return $"{bulkhead.Path}:PermitLimit is derived (PermitsPerDestination × available destinations) and cannot be set: set {RouteBulkheadsOptions.SectionName}:{route}:PermitsPerDestination instead.";
        }

        if (bulkhead["QueueLimit"] is not null)
        {
            yield return $"{bulkhead.Path}:QueueLimit is derived (QueuePerDestination × available destinations) and cannot be set: set {RouteBulkheadsOptions.SectionName}:{route}:QueuePerDestination instead.";
        }
    }
}
