using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// Holds a permit of the route's shared <see cref="Bulkhead"/> (<c>gateway-&lt;route&gt;</c>, <see cref="RouteBulkheads"/>) while the call
/// is forwarded: bounded in-flight per route, a short queue, sheddable calls displaced by critical
/// ones, and no tenant above the route's <c>TenantMaxShare</c>. Overload answers <c>UNAVAILABLE</c>
/// with pushback and <c>x-mesh-reject-reason: route-overloaded</c>; a deadline the queue cannot meet
/// answers <c>DEADLINE_EXCEEDED</c> with <c>deadline-exceeded</c>. A streaming method's permit is held for the stream's
/// life and asked for with <see cref="BulkheadRequest.LongLived"/>: never a service-time sample.
/// </summary>
public sealed class RouteBulkheadMiddleware(RequestDelegate next, RouteBulkheads bulkheads, GatewayMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var call = GatewayCall.Of(context);
        var route = call.RouteId;
        if (!bulkheads.TryGetOrCreate(route, out var bulkhead))
        {
            await next(context);
            return;
        }

        var request = new BulkheadRequest(
            call.Deadline?.Deadline,
            call.Tenant?.Id,
            call.Criticality,
            LongLived: call.Method?.IsStreaming == true);
        // The bulkhead enforces the deadline itself (DeadlineExceeded / DeadlineUnmeetable); the token is only the caller leaving.
        using var lease = await bulkhead.AcquireAsync(request, context.RequestAborted);
        if (lease.IsAcquired)
        {
            try
            {
                await next(context);
            }
            finally
            {
                // A failed or cut-short forward (no backend, reset, deadline) did no representative work:
                // release without a service-time sample, so it cannot shorten the pushback or skew admission.
                if (context.Features.Get<IForwarderErrorFeature>() is not null || context.RequestAborted.IsCancellationRequested)
                {
                    lease.Abandon();
                }
            }

            return;
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            // The caller is gone: nobody to answer.
            return;
        }

        // The shared mapper decides status, message and pushback; the gateway names the reason in its own vocabulary.
        var rejection = BulkheadRejectionMapper.ToRejection(lease, route);
        await GatewayRejections.WriteAsync(context, metrics, route, rejection with
        {
            Reason = BulkheadRejectionMapper.IsOverload(lease.Reason) ? MeshRejectReasons.RouteOverloaded : MeshRejectReasons.DeadlineExceeded,
            Message = $"route '{route}': {rejection.Message}",
        });
    }
}
