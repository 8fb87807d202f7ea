namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="BackendConnectionOptions"/> (no reflection at start-up).</summary>
[OptionsValidator]
internal sealed partial class BackendConnectionOptionsValidator : IValidateOptions<BackendConnectionOptions>
{
}
