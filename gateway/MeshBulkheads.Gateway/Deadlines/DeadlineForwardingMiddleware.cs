using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Deadlines;

/// <summary>
/// Last before the forwarder: sets <c>grpc-timeout</c> to the budget left after the time spent in
/// the gateway (authentication, rate limiting, bulkhead queueing), or answers
/// <c>DEADLINE_EXCEEDED</c> without forwarding when nothing is left.
/// </summary>
public sealed class DeadlineForwardingMiddleware(RequestDelegate next, GatewayMetrics metrics, TimeProvider timeProvider)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<IDeadlineFeature>() is not GatewayDeadlineFeature deadline)
        {
            return next(context);
        }

        var spent = timeProvider.GetElapsedTime(deadline.ArrivalTimestamp);
        var left = deadline.Timeout - spent;
        if (GrpcTimeoutFormatter.Format(left) is not { } header)
        {
            return RejectAsync(
                context,
                metrics,
                GatewayRoute.IdOf(context),
                $"the deadline of {deadline.Timeout.TotalMilliseconds:0} ms ({deadline.Source}) was spent in the gateway ({spent.TotalMilliseconds:0} ms) before the call could be forwarded");
        }

        context.Request.Headers[MeshMetadata.GrpcTimeout] = header;
        return next(context);
    }

    internal static Task RejectAsync(HttpContext context, GatewayMetrics metrics, string route, string message)
    {
        metrics.Rejected(route, GatewayRejectReasons.DeadlineExceeded);
        return GrpcTrailersOnlyResponse.WriteAsync(
            context,
            StatusCode.DeadlineExceeded,
            message,
            StatusCodes.Status504GatewayTimeout,
            [new(MeshMetadata.RejectReason, GatewayRejectReasons.DeadlineExceeded)]);
    }
}
