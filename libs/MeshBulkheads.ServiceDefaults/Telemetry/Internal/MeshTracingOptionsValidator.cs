namespace MeshBulkheads.ServiceDefaults.Telemetry.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="MeshTracingOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class MeshTracingOptionsValidator : IValidateOptions<MeshTracingOptions>
{
}
