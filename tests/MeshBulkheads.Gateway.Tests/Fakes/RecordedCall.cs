using Google.Protobuf;

namespace MeshBulkheads.Gateway.Tests.Fakes;

/// <summary>A call a fake backend received: method, request and the metadata the gateway forwarded.</summary>
/// <param name="Method">The method name.</param>
/// <param name="Request">The request message.</param>
/// <param name="Headers">The metadata grpc-dotnet exposes.</param>
/// <param name="GrpcTimeout">The raw <c>grpc-timeout</c> header (grpc-dotnet leaves it out of <c>RequestHeaders</c>), or null.</param>
public sealed record RecordedCall(string Method, IMessage Request, IReadOnlyList<Metadata.Entry> Headers, string? GrpcTimeout = null)
{
    /// <summary>All values of a metadata key (keys are lowercase on the wire).</summary>
    public IReadOnlyList<string> Values(string key) =>
        [.. Headers.Where(h => !h.IsBinary && string.Equals(h.Key, key, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)];
}
