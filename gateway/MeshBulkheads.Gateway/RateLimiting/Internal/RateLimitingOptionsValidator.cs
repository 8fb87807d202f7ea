namespace MeshBulkheads.Gateway.RateLimiting.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="RateLimitingOptions"/> (no reflection at start-up).</summary>
[OptionsValidator]
internal sealed partial class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>
{
}
