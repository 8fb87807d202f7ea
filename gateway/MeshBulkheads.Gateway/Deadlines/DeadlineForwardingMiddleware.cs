using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Deadlines;

/// <summary>
/// Just before identity signing and the forwarder: sets <c>grpc-timeout</c> to the budget left after the time spent in
/// the gateway (authentication, rate limiting, bulkhead queueing), or answers
/// <c>DEADLINE_EXCEEDED</c> without forwarding when nothing is left (<see cref="DeadlineGuard"/>).
/// </summary>
public sealed class DeadlineForwardingMiddleware(RequestDelegate next, GatewayMetrics metrics, TimeProvider timeProvider)
{
    public Task InvokeAsync(HttpContext context)
    {
        var call = GatewayCall.Of(context);
        if (call.Deadline is not { } deadline)
        {
            return next(context);
        }

        var left = DeadlineGuard.Remaining(deadline.Deadline, timeProvider);
        if (GrpcTimeoutFormatter.Format(left) is not { } header)
        {
            var spent = deadline.Timeout - left;
            return GatewayRejections.WriteAsync(
                context,
                metrics,
                call.RouteId,
                DeadlineGuard.Exceeded($"the deadline of {deadline.Timeout.TotalMilliseconds:0} ms ({deadline.Source}) was spent in the gateway ({spent.TotalMilliseconds:0} ms) before the call could be forwarded"));
        }

        context.Request.Headers[MeshMetadata.GrpcTimeout] = header;
        return next(context);
    }
}
