namespace MeshBulkheads.Gateway.Bulkheads.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="RouteBulkheadsOptions"/> (the section's own keys).</summary>
[OptionsValidator]
internal sealed partial class RouteBulkheadsOptionsValidator : IValidateOptions<RouteBulkheadsOptions>
{
}
