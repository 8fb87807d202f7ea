using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>
/// Takes the route's cost from the authenticated tenant's token bucket; over the limit the call gets
/// <c>RESOURCE_EXHAUSTED</c> with the exact pushback and never reaches a backend. Runs after tenancy.
/// </summary>
public sealed class TenantRateLimitMiddleware(
    RequestDelegate next,
    ITenantRateLimiter limiter,
    GatewayMetrics metrics,
    ILogger<TenantRateLimitMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var tenant = context.Features.Get<GatewayTenant>()
            ?? throw new InvalidOperationException("TenantRateLimitMiddleware must run after TenancyMiddleware.");
        var route = GatewayRoute.IdOf(context);
        var decision = await limiter.TryAcquireAsync(tenant, route, context.RequestAborted);
        metrics.RateLimitDecision(tenant.Id, route, decision.Allowed);
        if (decision.Allowed)
        {
            await next(context);
            return;
        }

        var pushbackMs = MeshRejection.ToPushbackMilliseconds(decision.RetryAfter);
        GatewayLog.TenantRateLimited(logger, tenant.Id, route, decision.Cost, pushbackMs);
        var message = string.Create(
            CultureInfo.InvariantCulture,
            $"tenant '{tenant.Id}' is over its rate limit ({tenant.Tier} tier: {decision.Limit.TokensPerSecond} tokens/s, burst {decision.Limit.Burst}); a call on route '{route}' costs {decision.Cost} tokens; retry after {pushbackMs} ms");
        await GatewayRejections.WriteAsync(context, metrics, route, new MeshRejection(StatusCode.ResourceExhausted, MeshRejectReasons.TenantRateLimit, message, decision.RetryAfter));
    }
}
