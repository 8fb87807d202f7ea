using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.RateLimiting;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// Authenticates proxied calls (YARP pipeline only, so health and reflection need no key): maps
/// <c>x-api-key</c> to a tenant, removes the key and any client-sent <c>x-tenant-id</c>, and sets
/// the authenticated <c>x-tenant-id</c> for the services.
/// </summary>
/// <remarks>
/// Every call that fails authentication first takes a token from its source's bucket in the
/// <see cref="UnauthenticatedRateLimiter"/> (the client address, after forwarded headers from configured proxies):
/// missing, repeated and oversized keys are charged before any key lookup (an oversized key is never hashed); an
/// unknown key after its constant-time lookup. Past that limit the source gets <c>RESOURCE_EXHAUSTED</c> without
/// logging, so a flood of bad keys costs bounded work and log volume, slows guessing from that source, leaves other
/// sources' answers <c>UNAUTHENTICATED</c> and never touches any tenant's bucket.
/// </remarks>
public sealed class TenancyMiddleware(
    RequestDelegate next,
    ApiKeyAuthenticator authenticator,
    UnauthenticatedRateLimiter unauthenticatedLimiter,
    GatewayMetrics metrics,
    ILogger<TenancyMiddleware> logger)
{
    public const string MissingKeyMessage = "missing x-api-key metadata; demo keys are in the README";
    public const string RepeatedKeyMessage = "send exactly one x-api-key metadata entry";
    public const string UnknownKeyMessage = "unknown API key";

    /// <summary>Longer keys are refused without hashing them (real keys are far shorter).</summary>
    public const int MaxKeyLength = Contracts.Identity.ApiKeyHash.MaxKeyLength;

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var apiKeys = headers[MeshMetadata.ApiKey];

        // Neither the key nor any identity or mesh metadata the client claims for itself ever reaches a service.
        headers.Remove(MeshMetadata.ApiKey);
        StripClientMetadata(headers);

        if (apiKeys.Count == 0 || string.IsNullOrEmpty(apiKeys[0]))
        {
            return RejectAsync(context, MissingKeyMessage);
        }

        if (apiKeys.Count > 1)
        {
            return RejectAsync(context, RepeatedKeyMessage);
        }

        if (apiKeys[0]!.Length > MaxKeyLength)
        {
            return RejectAsync(context, UnknownKeyMessage);
        }

        var tenant = authenticator.Authenticate(apiKeys[0]!);
        if (tenant is null)
        {
            return RejectAsync(context, UnknownKeyMessage);
        }

        headers[MeshMetadata.TenantId] = tenant.Id;
        GatewayCall.Of(context).Tenant = tenant;
        return next(context);
    }

    /// <summary>
    /// Whether a client-sent header is the mesh's to set, never the client's: <c>x-tenant-*</c>, <c>x-mesh-*</c> (but
    /// <c>x-mesh-criticality</c>, which <see cref="Forwarding.GatewayCriticality"/> validates and then overwrites)
    /// and W3C <c>baggage</c> (whose entries would otherwise ride along to every service).
    /// </summary>
    public static bool IsClientMetadata(string name) =>
        name.StartsWith(TenantPrefix, StringComparison.OrdinalIgnoreCase)
        || (name.StartsWith(MeshPrefix, StringComparison.OrdinalIgnoreCase) && !name.Equals(MeshMetadata.Criticality, StringComparison.OrdinalIgnoreCase))
        || name.Equals(BaggageHeader, StringComparison.OrdinalIgnoreCase);

    private const string TenantPrefix = "x-tenant-";
    private const string MeshPrefix = "x-mesh-";
    private const string BaggageHeader = "baggage";

    private static void StripClientMetadata(IHeaderDictionary headers)
    {
        // Names collected first (a dictionary cannot lose entries while it is enumerated); the list only when one is
        // found. Enumerating through IHeaderDictionary boxes Kestrel's enumerator: one small object per call, the
        // price of looking at every name a client sent.
        List<string>? found = null;
        foreach (var header in headers)
        {
            if (IsClientMetadata(header.Key))
            {
                (found ??= []).Add(header.Key);
            }
        }

        if (found is null)
        {
            return;
        }

        foreach (var name in found)
        {
            headers.Remove(name);
        }

        // ASP.NET Core read the baggage into the server activity already (and OpenTelemetry into Baggage.Current):
        // HttpClient would send it on from there.
        if (found.Exists(name => name.Equals(BaggageHeader, StringComparison.OrdinalIgnoreCase)))
        {
            OpenTelemetry.Baggage.Current = default;
            if (System.Diagnostics.Activity.Current is { } activity)
            {
                foreach (var (key, _) in activity.Baggage.ToList())
                {
                    activity.SetBaggage(key, null);
                }
            }
        }
    }

    private Task RejectAsync(HttpContext context, string message)
    {
        var route = GatewayCall.Of(context).RouteId;
        var decision = unauthenticatedLimiter.TryAcquire(context.Connection.RemoteIpAddress);
        metrics.RateLimitDecision(GatewayMetrics.NoTenant, route, decision.Allowed);
        if (!decision.Allowed)
        {
            return GatewayRejections.WriteAsync(context, metrics, route, new MeshRejection(
                StatusCode.ResourceExhausted,
                MeshRejectReasons.UnauthenticatedRateLimit,
                string.Create(CultureInfo.InvariantCulture, $"too many calls without a valid x-api-key; retry after {MeshRejection.ToPushbackMilliseconds(decision.RetryAfter)} ms with a valid key"),
                decision.RetryAfter));
        }

        GatewayLog.Unauthenticated(logger, context.Request.Path, message);
        return GatewayRejections.WriteAsync(context, metrics, route, new MeshRejection(StatusCode.Unauthenticated, MeshRejectReasons.Unauthenticated, message));
    }
}
