namespace MeshBulkheads.ServiceDefaults.Hosting.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="MeshHostingOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class MeshHostingOptionsValidator : IValidateOptions<MeshHostingOptions>
{
}
