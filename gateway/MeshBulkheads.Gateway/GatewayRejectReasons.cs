using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Gateway;

/// <summary>
/// The <c>x-mesh-reject-reason</c> values the gateway writes itself (see the README's table). The deadline
/// reasons are the library's (<see cref="MeshRejectReasons"/>), so the gateway and the services spell them alike.
/// </summary>
public static class GatewayRejectReasons
{
    /// <summary>Missing, repeated or unknown <c>x-api-key</c>: <c>UNAUTHENTICATED</c>.</summary>
    public const string Unauthenticated = "unauthenticated";

    /// <summary>Too many calls failing authentication (<c>Gateway:UnauthenticatedLimit</c>): <c>RESOURCE_EXHAUSTED</c>.</summary>
    public const string UnauthenticatedRateLimit = "unauthenticated-rate-limit";

    /// <summary>The tenant's token bucket lacks the route's cost: <c>RESOURCE_EXHAUSTED</c> with pushback.</summary>
    public const string TenantRateLimit = "tenant-rate-limit";

    /// <summary>The call's deadline was zero, negative, or spent before forwarding: <c>DEADLINE_EXCEEDED</c>.</summary>
    public const string DeadlineExceeded = MeshRejectReasons.DeadlineExceeded;

    /// <summary><c>grpc-timeout</c> is not 1–8 digits and a unit, or was sent twice: <c>INVALID_ARGUMENT</c>.</summary>
    public const string MalformedGrpcTimeout = MeshRejectReasons.MalformedGrpcTimeout;

    /// <summary>The route's bulkhead is full, its queue timed out, or the tenant holds its share: <c>UNAVAILABLE</c> with pushback.</summary>
    public const string RouteOverloaded = "route-overloaded";

    /// <summary>The backend could not be reached or failed before answering: <c>UNAVAILABLE</c>.</summary>
    public const string BackendUnavailable = "backend-unavailable";

    /// <summary>Every destination of the route's cluster is unhealthy: <c>UNAVAILABLE</c> at once.</summary>
    public const string NoHealthyBackend = "no-healthy-backend";

    /// <summary>The backend did not answer within the cluster's activity timeout: <c>DEADLINE_EXCEEDED</c>.</summary>
    public const string BackendTimeout = "backend-timeout";
}
