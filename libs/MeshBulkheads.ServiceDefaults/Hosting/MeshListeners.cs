using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>Holds Kestrel's listen options so the bound ports can be read after start.</summary>
public sealed class MeshListeners
{
    public ListenOptions? Grpc { get; internal set; }

    public ListenOptions? Admin { get; internal set; }

    /// <summary>True when the gRPC listener serves TLS (<c>Mesh:Tls</c>); its address is then <c>https://</c>.</summary>
    public bool GrpcTls { get; internal set; }
}
