using System.Diagnostics;
using Grpc.Core;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Contracts;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>Shared shape of the gRPC server and client metrics.</summary>
public static class GrpcMetrics
{
    /// <summary>Meter for RPC metrics.</summary>
    public const string MeterName = MeshTelemetry.Prefix + ".Rpc";

    /// <summary>Splits "/pkg.Service/Method" into OpenTelemetry's rpc.service and rpc.method, with the status code.</summary>
    public static TagList Tags(string fullMethod, StatusCode status)
    {
        var trimmed = fullMethod.AsSpan().TrimStart('/');
        var slash = trimmed.IndexOf('/');
        var service = slash > 0 ? trimmed[..slash].ToString() : trimmed.ToString();
        var method = slash > 0 ? trimmed[(slash + 1)..].ToString() : string.Empty;
        return new TagList
        {
            { MeshTelemetryTags.RpcSystem, "grpc" },
            { MeshTelemetryTags.RpcService, service },
            { MeshTelemetryTags.RpcMethod, method },
            { MeshTelemetryTags.GrpcStatusCode, StatusName(status) },
        };
    }

    /// <summary>The canonical upper-case name (OK, UNAVAILABLE, ...), a bounded label value: an unlisted code is UNKNOWN.</summary>
    public static string StatusName(StatusCode status) => GrpcStatusNames.Canonical(status) ?? "UNKNOWN";
}
