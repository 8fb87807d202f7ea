using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Deadlines;

/// <summary>
/// Gives every proxied call a finite deadline when it arrives: the caller's <c>grpc-timeout</c>
/// (parsed by the shared <see cref="GrpcTimeoutParser"/>), the route's <c>Default</c> when absent,
/// clamped to the route's <c>Max</c>. Zero or negative → <c>DEADLINE_EXCEEDED</c>, malformed →
/// <c>INVALID_ARGUMENT</c>; neither reaches a backend. <see cref="DeadlineForwardingMiddleware"/>
/// later forwards what is left.
/// </summary>
public sealed class DeadlineMiddleware(RequestDelegate next, GatewayPolicyMonitor policy, GatewayMetrics metrics, TimeProvider timeProvider)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var arrival = timeProvider.GetTimestamp();
        var route = GatewayRoute.IdOf(context);
        var headers = context.Request.Headers[MeshMetadata.GrpcTimeout];
        // Two grpc-timeout headers are as malformed as one bad one.
        var raw = headers.Count > 1 ? "," : headers.Count == 1 ? headers[0] : null;
        var routePolicy = policy.Current.Options.DeadlineOf(route);
        TimeSpan timeout;
        DeadlineSource source;
        switch (GrpcTimeoutParser.Parse(raw, out var parsed))
        {
            case GrpcTimeoutParseResult.Malformed:
                metrics.Rejected(route, GatewayRejectReasons.MalformedGrpcTimeout);
                await GrpcTrailersOnlyResponse.WriteAsync(
                    context,
                    StatusCode.InvalidArgument,
                    $"grpc-timeout '{headers}' is malformed: expected 1 to 8 digits followed by one unit of H, M, S, m, u, n (for example 500m)",
                    StatusCodes.Status400BadRequest,
                    [new(MeshMetadata.RejectReason, GatewayRejectReasons.MalformedGrpcTimeout)]);
                return;
            case GrpcTimeoutParseResult.NonPositive:
                await DeadlineForwardingMiddleware.RejectAsync(context, metrics, route, $"grpc-timeout '{raw}' leaves no time: the deadline has already passed, so the call was not forwarded");
                return;
            case GrpcTimeoutParseResult.Absent:
                (timeout, source) = (routePolicy.Default, DeadlineSource.Default);
                break;
            default:
                (timeout, source) = parsed > routePolicy.Max ? (routePolicy.Max, DeadlineSource.Clamped) : (parsed, DeadlineSource.Header);
                break;
        }

        using var deadlineCts = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadlineCts.Token, context.RequestAborted);
        context.Features.Set<IDeadlineFeature>(new GatewayDeadlineFeature(arrival, timeout, timeProvider.GetUtcNow() + timeout, source, linked.Token));
        await next(context);
    }
}
