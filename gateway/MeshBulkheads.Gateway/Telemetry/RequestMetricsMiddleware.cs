using MeshBulkheads.ServiceDefaults.Telemetry;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace MeshBulkheads.Gateway.Telemetry;

/// <summary>
/// Records <c>meshbulkheads.gateway.request.duration</c> for every proxied call by tenant, route and
/// the gRPC status the caller got (the backend's, or the gateway's own rejection). Outermost in the
/// proxy pipeline so rejections and rewritten backend failures are measured too.
/// </summary>
public sealed class RequestMetricsMiddleware(RequestDelegate next, GatewayMetrics metrics, TimeProvider timeProvider)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var start = timeProvider.GetTimestamp();
        var call = GatewayCall.Of(context);
        try
        {
            await next(context);
        }
        finally
        {
            // Only authenticated tenants (ids from configuration) become tag values.
            var tenant = call.Tenant?.Id ?? GatewayMetrics.NoTenant;
            metrics.RequestDuration(timeProvider.GetElapsedTime(start), tenant, call.RouteId, StatusOf(context));
        }
    }

    /// <summary>The status from the trailers (normal response) or the headers (Trailers-Only).</summary>
    private static string StatusOf(HttpContext context)
    {
        var value = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"] is { Count: > 0 } trailer
            ? trailer.ToString()
            : context.Response.Headers["grpc-status"].ToString();
        // The same label values as every service's rpc metrics (OK, UNAVAILABLE, ...), so one query
        // can compare the front door with the services.
        if (int.TryParse(value, out var code) && Enum.IsDefined((StatusCode)code))
        {
            return GrpcMetrics.StatusName((StatusCode)code);
        }

        return GrpcMetrics.StatusName(context.RequestAborted.IsCancellationRequested ? StatusCode.Cancelled : StatusCode.Unknown);
    }
}
