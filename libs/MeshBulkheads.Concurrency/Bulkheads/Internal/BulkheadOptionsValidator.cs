using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>Source-generated DataAnnotations validator for <see cref="BulkheadOptions"/> (reflection-free).</summary>
[OptionsValidator]
internal sealed partial class BulkheadOptionsValidator : IValidateOptions<BulkheadOptions>
{
}
