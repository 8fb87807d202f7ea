namespace MeshBulkheads.AppHost;

/// <summary>A process's two ports: h2c gRPC and HTTP/1.1 admin, both on 127.0.0.1.</summary>
internal sealed record MeshPorts(int Grpc, int Admin)
{
    public string GrpcAddress => $"http://127.0.0.1:{Grpc}";
}
