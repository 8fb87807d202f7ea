using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// Holds a permit of the route's shared <see cref="Bulkhead"/> (named like the route) while the call
/// is forwarded: bounded in-flight per route, a short queue, sheddable calls displaced by critical
/// ones, and no tenant above the route's <c>TenantMaxShare</c>. Overload answers <c>UNAVAILABLE</c>
/// with pushback and <c>x-mesh-reject-reason: route-overloaded</c>; a deadline the queue cannot meet
/// answers <c>DEADLINE_EXCEEDED</c> with <c>deadline-exceeded</c>.
/// </summary>
public sealed class RouteBulkheadMiddleware(RequestDelegate next, IBulkheadProvider bulkheads, GatewayMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var route = GatewayRoute.IdOf(context);
        if (!bulkheads.TryGet(route, out var bulkhead))
        {
            await next(context);
            return;
        }

        var deadline = context.Features.Get<IDeadlineFeature>();
        var request = new BulkheadRequest(
            deadline?.Deadline,
            context.Features.Get<GatewayTenant>()?.Id,
            GatewayCriticality.Of(context.Request.Path));
        // The bulkhead enforces the deadline itself (DeadlineExceeded / DeadlineUnmeetable); the token is only the caller leaving.
        using var lease = await bulkhead.AcquireAsync(request, context.RequestAborted);
        if (lease.IsAcquired)
        {
            await next(context);
            return;
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            // The caller is gone: nobody to answer.
            return;
        }

        var overload = BulkheadRejectionMapper.IsOverload(lease.Reason);
        var reason = overload ? GatewayRejectReasons.RouteOverloaded : GatewayRejectReasons.DeadlineExceeded;
        metrics.Rejected(route, reason);
        // The shared mapper decides status, message and pushback; the gateway names the reason in its own vocabulary.
        var metadata = BulkheadRejectionMapper.ToMetadata(lease, reason);
        await GrpcTrailersOnlyResponse.WriteAsync(
            context,
            BulkheadRejectionMapper.ToStatusCode(lease.Reason),
            $"route '{route}': {BulkheadRejectionMapper.ToMessage(lease, route)}",
            BulkheadRejectionMapper.ToHttpStatusCode(lease.Reason),
            metadata);
    }
}
