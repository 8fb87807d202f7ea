namespace MeshBulkheads.Gateway.Bulkheads.Internal;

/// <summary>Source-generated DataAnnotations validator for one route's <see cref="RouteBulkheadOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class RouteBulkheadOptionsValidator : IValidateOptions<RouteBulkheadOptions>
{
}
