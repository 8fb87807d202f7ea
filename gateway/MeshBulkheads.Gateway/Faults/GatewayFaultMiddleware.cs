using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.ServiceDefaults.Faults;

namespace MeshBulkheads.Gateway.Faults;

/// <summary>
/// The gateway's <c>server</c> fault point (docs/faults.md), last before the forwarder: an injected latency holds
/// the route's permit and spends the deadline like a slow gateway would; an injected error is answered Trailers-Only
/// (with <c>x-mesh-fault</c>) and nothing is forwarded. One check per call when no fault is active.
/// </summary>
public sealed class GatewayFaultMiddleware(RequestDelegate next, FaultPipelines pipelines)
{
    /// <summary>Applies the active faults, then forwards.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return pipelines.Faults.HasAny(FaultTargets.Server) ? InjectAsync(context) : next(context);
    }

    private async Task InjectAsync(HttpContext context)
    {
        try
        {
            await pipelines.InjectAsync(FaultTargets.Server, GatewayCall.Of(context).Method?.Path, context.RequestAborted);
        }
        catch (RpcException injected)
        {
            await GrpcTrailersOnlyResponse.WriteAsync(
                context,
                injected.StatusCode,
                injected.Status.Detail,
                StatusCodes.Status503ServiceUnavailable,
                [.. injected.Trailers.Where(e => !e.IsBinary).Select(e => new KeyValuePair<string, string>(e.Key, e.Value))]);
            return;
        }

        await next(context);
    }
}
