using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Identity;

/// <summary>
/// Before the fault point and the forwarder: signs what the gateway decided about the call (tenant, method, criticality, deadline)
/// into the identity token of the one service the route's cluster is (<c>x-mesh-identity</c>), and, for a method with a
/// delegation (<c>BuildReport</c>), a second token for the downstream method (<c>x-mesh-delegation</c>).
/// </summary>
/// <remarks>A client-sent <c>x-mesh-identity</c> or <c>x-mesh-delegation</c> never gets here: tenancy strips every <c>x-mesh-*</c> header.</remarks>
public sealed class IdentityMiddleware(RequestDelegate next, GatewayIdentitySigner signer, GatewayMetrics metrics, TimeProvider timeProvider)
{
    /// <summary>Signs the call and forwards it.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var call = GatewayCall.Of(context);
        if (call.Route?.Cluster?.ClusterId is not { } audience || call.Method is not { } method || call.Tenant is not { } tenant)
        {
            // Not a resolved, authenticated proxy call (the ladder benchmark's lower rungs): nothing to vouch for.
            return next(context);
        }

        // The gateway always assigns a deadline (DeadlineMiddleware); without one (a lower ladder rung) a minute bounds the token.
        var deadline = call.Deadline?.Deadline ?? timeProvider.GetUtcNow().AddMinutes(1);
        var criticality = CriticalityHeader.ToValue(call.Criticality);
        if (signer.Mint(audience, method.Path, tenant.Id, criticality, deadline) is not { } token)
        {
            return GatewayRejections.WriteAsync(context, metrics, call.RouteId, GatewayIdentitySigner.NoKey(audience));
        }

        var headers = context.Request.Headers;
        headers[MeshIdentityToken.Header] = token;
        if (signer.DelegationFor(method.Path) is { } delegation)
        {
            if (signer.Mint(delegation.Audience, delegation.DelegatedMethod, tenant.Id, criticality, deadline, actor: audience) is not { } delegated)
            {
                return GatewayRejections.WriteAsync(context, metrics, call.RouteId, GatewayIdentitySigner.NoKey(delegation.Audience));
            }

            headers[MeshIdentityToken.DelegationHeader] = delegated;
        }

        return next(context);
    }
}
