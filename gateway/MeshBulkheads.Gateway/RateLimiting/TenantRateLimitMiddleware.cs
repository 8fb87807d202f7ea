using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
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
    public Task InvokeAsync(HttpContext context)
    {
        var call = GatewayCall.Of(context);
        var tenant = call.Tenant
            ?? throw new InvalidOperationException("TenantRateLimitMiddleware must run after TenancyMiddleware.");
        var pending = limiter.TryAcquireAsync(tenant, call.RouteId, context.RequestAborted);
        // The in-process buckets decide synchronously: no state machine for them (Redis awaits).
        return pending.IsCompletedSuccessfully ? Decided(context, tenant, call.RouteId, pending.Result) : DecidedAsync(context, tenant, call.RouteId, pending);
    }

    private async Task DecidedAsync(HttpContext context, GatewayTenant tenant, string route, ValueTask<RateLimitDecision> pending) =>
        await Decided(context, tenant, route, await pending);

    private Task Decided(HttpContext context, GatewayTenant tenant, string route, RateLimitDecision decision)
    {
        metrics.RateLimitDecision(tenant.Id, route, decision.Allowed);
        if (decision.Allowed)
        {
            return next(context);
        }

        var pushbackMs = MeshRejection.ToPushbackMilliseconds(decision.RetryAfter);
        GatewayLog.TenantRateLimited(logger, tenant.Id, route, decision.Cost, pushbackMs);
        var message = string.Create(
            CultureInfo.InvariantCulture,
            $"tenant '{tenant.Id}' is over its rate limit ({tenant.Tier} tier: {decision.Limit.TokensPerSecond} tokens/s, burst {decision.Limit.Burst}); a call on route '{route}' costs {decision.Cost} tokens; retry after {pushbackMs} ms");
        return GatewayRejections.WriteAsync(context, metrics, route, new MeshRejection(StatusCode.ResourceExhausted, MeshRejectReasons.TenantRateLimit, message, decision.RetryAfter));
    }
}
