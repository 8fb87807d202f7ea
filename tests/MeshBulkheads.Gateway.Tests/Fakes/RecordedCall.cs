using Google.Protobuf;
using Grpc.Core;

namespace MeshBulkheads.Gateway.Tests.Fakes;

/// <summary>A call a fake backend received: method, request and the metadata the gateway forwarded.</summary>
public sealed record RecordedCall(string Method, IMessage Request, IReadOnlyList<Metadata.Entry> Headers)
{
    /// <summary>All values of a metadata key (keys are lowercase on the wire).</summary>
    public IReadOnlyList<string> Values(string key) =>
        [.. Headers.Where(h => !h.IsBinary && string.Equals(h.Key, key, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)];
}
