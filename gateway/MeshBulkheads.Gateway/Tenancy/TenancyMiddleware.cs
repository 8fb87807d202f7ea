using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// Authenticates proxied calls (YARP pipeline only, so health and reflection need no key): maps
/// <c>x-api-key</c> to a tenant, removes the key and any client-sent <c>x-tenant-id</c>, and sets
/// the authenticated <c>x-tenant-id</c> for the services.
/// </summary>
public sealed class TenancyMiddleware(
    RequestDelegate next,
    ApiKeyAuthenticator authenticator,
    GatewayMetrics metrics,
    ILogger<TenancyMiddleware> logger)
{
    public const string MissingKeyMessage = "missing x-api-key metadata; demo keys are in the README";
    public const string RepeatedKeyMessage = "send exactly one x-api-key metadata entry";
    public const string UnknownKeyMessage = "unknown API key";

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var apiKeys = headers[MeshMetadata.ApiKey];

        // Neither the key nor a tenant the client claims for itself ever reaches a service.
        headers.Remove(MeshMetadata.ApiKey);
        headers.Remove(MeshMetadata.TenantId);

        if (apiKeys.Count == 0 || string.IsNullOrEmpty(apiKeys[0]))
        {
            return RejectAsync(context, MissingKeyMessage);
        }

        if (apiKeys.Count > 1)
        {
            return RejectAsync(context, RepeatedKeyMessage);
        }

        var tenant = authenticator.Authenticate(apiKeys[0]!);
        if (tenant is null)
        {
            return RejectAsync(context, UnknownKeyMessage);
        }

        headers[MeshMetadata.TenantId] = tenant.Id;
        context.Features.Set(tenant);
        return next(context);
    }

    private Task RejectAsync(HttpContext context, string message)
    {
        GatewayLog.Unauthenticated(logger, context.Request.Path, message);
        metrics.Rejected(context.Features.Get<IReverseProxyFeature>()?.Route.Config.RouteId ?? "unknown", GatewayRejectReasons.Unauthenticated);
        return GrpcTrailersOnlyResponse.WriteAsync(
            context,
            StatusCode.Unauthenticated,
            message,
            StatusCodes.Status401Unauthorized,
            [new(MeshMetadata.RejectReason, GatewayRejectReasons.Unauthenticated)]);
    }
}
