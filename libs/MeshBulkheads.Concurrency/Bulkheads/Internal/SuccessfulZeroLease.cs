using System.Threading.RateLimiting;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>The lease for a zero-permit probe; holds nothing.</summary>
internal sealed class SuccessfulZeroLease : RateLimitLease
{
    public static readonly SuccessfulZeroLease Instance = new();

    public override bool IsAcquired => true;

    public override IEnumerable<string> MetadataNames => [];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        return false;
    }
}
