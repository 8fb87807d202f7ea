using System.Collections.Frozen;
using MeshBulkheads.Gateway.Reflection;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Every method the gateway knows, from the same contract descriptors it serves for reflection
/// (<see cref="GatewayReflection.Services"/>): the three backends, health and reflection. gRPC method
/// names are case-sensitive (the gRPC spec; grpc-go and grpc-java answer <c>UNIMPLEMENTED</c>), so
/// lookups are ordinal.
/// </summary>
public static class GatewayMethods
{
    private static readonly FrozenDictionary<string, GatewayMethod> ByPath = GatewayReflection.Services
        .SelectMany(s => s.Methods.Select(m => new GatewayMethod(s.FullName, m.Name, m.IsClientStreaming || m.IsServerStreaming)))
        .ToFrozenDictionary(m => m.Path, StringComparer.Ordinal);

    /// <summary>The known methods, by canonical path.</summary>
    public static IReadOnlyDictionary<string, GatewayMethod> All => ByPath;

    /// <summary>The method whose canonical path is exactly <paramref name="path"/>, or null.</summary>
    public static GatewayMethod? Resolve(PathString path) =>
        path.HasValue && ByPath.TryGetValue(path.Value!, out var method) ? method : null;
}
