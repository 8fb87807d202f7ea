using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Sets <c>x-mesh-criticality</c> on every proxied call, overwriting a client's value, from the resolved
/// <see cref="GatewayMethod"/> and <c>Criticality:Methods:&lt;prefix&gt;</c> / <c>Criticality:Default</c>
/// (<see cref="CriticalityOptions"/>, the services' shape; shipped: payments' <c>Charge</c> is <c>critical</c>,
/// everything else <c>sheddable</c>). A client value that is not <c>critical</c> or <c>sheddable</c> is refused with
/// <c>INVALID_ARGUMENT</c> (<c>invalid-criticality</c>) by the library's <see cref="CriticalityHeader.Read"/>, the parser
/// the services use: an unknown value is never guessed.
/// </summary>
public sealed class GatewayCriticality(RequestDelegate next, GatewayMetrics metrics, IOptions<CriticalityOptions> criticality)
{
    public const string Critical = CriticalityHeader.Critical;
    public const string Sheddable = CriticalityHeader.Sheddable;

    public Task InvokeAsync(HttpContext context)
    {
        var call = GatewayCall.Of(context);
        var sent = context.Request.Headers[MeshMetadata.Criticality];
        if (sent.Count > 0 && CriticalityHeader.Read(sent.ToString(), BulkheadCriticality.Sheddable, out _) is { } rejection)
        {
            return GatewayRejections.WriteAsync(context, metrics, call.RouteId, rejection);
        }

        var value = criticality.Value.Resolve(call.Method?.Path);
        call.Criticality = value;
        context.Request.Headers[MeshMetadata.Criticality] = CriticalityHeader.ToValue(value);
        return next(context);
    }
}
