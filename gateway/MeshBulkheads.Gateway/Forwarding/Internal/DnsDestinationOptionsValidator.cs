namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="DnsDestinationOptions"/> (no reflection at start-up).</summary>
[OptionsValidator]
internal sealed partial class DnsDestinationOptionsValidator : IValidateOptions<DnsDestinationOptions>
{
}
