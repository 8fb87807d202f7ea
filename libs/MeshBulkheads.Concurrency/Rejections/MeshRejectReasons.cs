using System.Collections.Frozen;
using Grpc.Core;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// Every <c>x-mesh-reject-reason</c> of the mesh, the gateway's, the bulkheads' and the services', in one list
/// (<see cref="All"/>). The constants are the wire values (kebab-case, the public contract);
/// <see cref="MeshRejectReason.MetricTag"/> is the same reason as a metric tag value (snake_case, as aspnetcore's
/// rate-limiting metrics spell theirs). The README's reason table is tested against <see cref="All"/>.
/// </summary>
/// <remarks>A new reason is added here only: a constant, and its row in <see cref="All"/>.</remarks>
public static class MeshRejectReasons
{
    /// <summary>Missing, repeated or unknown <c>x-api-key</c>: <c>UNAUTHENTICATED</c> (gateway).</summary>
    public const string Unauthenticated = "unauthenticated";

    /// <summary>Too many calls failing authentication from one client source (<c>Gateway:UnauthenticatedLimit</c>): <c>RESOURCE_EXHAUSTED</c> (gateway).</summary>
    public const string UnauthenticatedRateLimit = "unauthenticated-rate-limit";

    /// <summary>
    /// A long-lived stream of the gateway's own (reflection, <c>Health/Watch</c>) without a valid <c>x-api-key</c> sent nothing
    /// for <c>Gateway:UnauthenticatedStreamIdleTimeout</c>: <c>UNAVAILABLE</c>, reopen it (gateway).
    /// </summary>
    public const string UnauthenticatedStreamIdle = "unauthenticated-stream-idle";

    /// <summary>The tenant's token bucket lacks the route's cost: <c>RESOURCE_EXHAUSTED</c> with pushback (gateway).</summary>
    public const string TenantRateLimit = "tenant-rate-limit";

    /// <summary>A call to a service without a gateway-signed identity token (<c>x-mesh-identity</c>): <c>UNAUTHENTICATED</c> (services).</summary>
    public const string IdentityMissing = "identity-missing";

    /// <summary>The identity token is malformed, signed with an unknown key, or forged or altered: <c>UNAUTHENTICATED</c> (services).</summary>
    public const string IdentityInvalid = "identity-invalid";

    /// <summary>The identity token expired (its call's deadline plus the gateway's skew allowance passed): <c>UNAUTHENTICATED</c> (services).</summary>
    public const string IdentityExpired = "identity-expired";

    /// <summary>The identity token is for another service: <c>UNAUTHENTICATED</c> (services).</summary>
    public const string IdentityWrongAudience = "identity-wrong-audience";

    /// <summary>The identity token is for another method: <c>UNAUTHENTICATED</c> (services).</summary>
    public const string IdentityWrongMethod = "identity-wrong-method";

    /// <summary><c>x-tenant-id</c> differs from the identity token's tenant, or <c>x-mesh-criticality</c> raises its criticality: <c>UNAUTHENTICATED</c> (services).</summary>
    public const string IdentityMismatch = "identity-mismatch";

    /// <summary><c>grpc-timeout</c> is not 1–8 digits and one unit, or was sent twice: <c>INVALID_ARGUMENT</c>.</summary>
    public const string MalformedGrpcTimeout = "malformed-grpc-timeout";

    /// <summary>The call's deadline was zero, negative, or passed before the work could start: <c>DEADLINE_EXCEEDED</c>.</summary>
    public const string DeadlineExceeded = "deadline-exceeded";

    /// <summary>The remaining deadline is shorter than the expected queue wait: <c>DEADLINE_EXCEEDED</c> at once.</summary>
    public const string DeadlineUnmeetable = "deadline-unmeetable";

    /// <summary><c>x-mesh-criticality</c> is neither <c>critical</c> nor <c>sheddable</c>: <c>INVALID_ARGUMENT</c>.</summary>
    public const string InvalidCriticality = "invalid-criticality";

    /// <summary>The path is not exactly a known gRPC method: <c>UNIMPLEMENTED</c>, nothing forwarded (gateway).</summary>
    public const string UnknownMethod = "unknown-method";

    /// <summary>The request message is larger than the route's <c>MaxRequestBodySize</c>: <c>RESOURCE_EXHAUSTED</c> (gateway).</summary>
    public const string MessageTooLarge = "message-too-large";

    /// <summary>
    /// The request's header block is larger than the gateway forwards (<c>MeshRequestLimits.GatewayForwardedHeadersTotalSize</c>,
    /// or more header fields than <c>GatewayForwardedHeaderCount</c>): <c>RESOURCE_EXHAUSTED</c> (HTTP 431), nothing forwarded (gateway).
    /// </summary>
    public const string RequestHeadersTooLarge = "request-headers-too-large";

    /// <summary>
    /// A request on a gRPC method that is not a gRPC call: HTTP 404 for a method other than POST, 415 for a content type other
    /// than <c>application/grpc</c>, as the services answer them; nothing forwarded (gateway).
    /// </summary>
    public const string NotGrpc = "not-grpc";

    /// <summary>The route's bulkhead is full, its queue timed out, or the tenant holds its share: <c>UNAVAILABLE</c> with pushback (gateway).</summary>
    public const string RouteOverloaded = "route-overloaded";

    /// <summary>The backend could not be reached or failed before answering: <c>UNAVAILABLE</c> (gateway).</summary>
    public const string BackendUnavailable = "backend-unavailable";

    /// <summary>Every destination of the route's cluster is unhealthy, or it has none yet (its DNS names do not resolve): <c>UNAVAILABLE</c> at once (gateway).</summary>
    public const string NoHealthyBackend = "no-healthy-backend";

    /// <summary>The backend did not answer within the cluster's activity timeout: <c>DEADLINE_EXCEEDED</c> (gateway).</summary>
    public const string BackendTimeout = "backend-timeout";

    /// <summary>The bulkhead's permits and queue are full: <c>UNAVAILABLE</c> with pushback.</summary>
    public const string QueueFull = "queue-full";

    /// <summary>Queued longer than the bulkhead's <c>MaxQueueTime</c>: <c>UNAVAILABLE</c> with pushback.</summary>
    public const string QueueTimeout = "queue-timeout";

    /// <summary>One tenant already holds its <c>TenantMaxShare</c> of the permits: <c>UNAVAILABLE</c> with pushback.</summary>
    public const string TenantShare = "tenant-share";

    /// <summary>The adaptive concurrency limit is reached: <c>UNAVAILABLE</c> with pushback.</summary>
    public const string AdaptiveLimit = "adaptive-limit";

    /// <summary>The caller cancelled before the work could start: <c>CANCELLED</c>.</summary>
    public const string Canceled = "canceled";

    /// <summary>The process is stopping: <c>UNAVAILABLE</c>, retry on another instance.</summary>
    public const string ShuttingDown = "shutting-down";

    /// <summary>The account's mailbox is full (payments): <c>UNAVAILABLE</c> with pushback.</summary>
    public const string PartitionFull = "partition-full";

    /// <summary>No database connection became free in time (payments): <c>UNAVAILABLE</c> with pushback.</summary>
    public const string DbPoolTimeout = "db-pool-timeout";

    /// <summary>The database was unreachable or the connection broke (payments): <c>UNAVAILABLE</c> with pushback.</summary>
    public const string DbUnavailable = "db-unavailable";

    /// <summary>The tenant has spent its render work budget: <c>RESOURCE_EXHAUSTED</c>, with pushback (render).</summary>
    public const string TenantWorkBudget = "tenant-work-budget";

    /// <summary>Too little of the deadline was left to start a downstream call: <c>DEADLINE_EXCEEDED</c> (reporting).</summary>
    public const string DownstreamBudgetExhausted = "downstream-budget-exhausted";

    /// <summary>
    /// The circuit breaker on reporting's payments client is open: <c>UNAVAILABLE</c> at once, nothing sent to payments,
    /// with the break time remaining as pushback (reporting).
    /// </summary>
    public const string DownstreamCircuitOpen = "downstream-circuit-open";

    /// <summary>
    /// The family of reasons for a failed downstream call (reporting): <c>downstream-</c> and the downstream's status in
    /// kebab-case, e.g. <c>downstream-unavailable</c> (<see cref="Downstream"/>).
    /// </summary>
    public const string DownstreamFamily = "downstream-<status>";

    /// <summary>Every reason, in the order of the README's table.</summary>
    public static IReadOnlyList<MeshRejectReason> All { get; } =
    [
        new(Unauthenticated, StatusCode.Unauthenticated),
        new(UnauthenticatedRateLimit, StatusCode.ResourceExhausted),
        new(UnauthenticatedStreamIdle, StatusCode.Unavailable),
        new(TenantRateLimit, StatusCode.ResourceExhausted),
        new(IdentityMissing, StatusCode.Unauthenticated),
        new(IdentityInvalid, StatusCode.Unauthenticated),
        new(IdentityExpired, StatusCode.Unauthenticated),
        new(IdentityWrongAudience, StatusCode.Unauthenticated),
        new(IdentityWrongMethod, StatusCode.Unauthenticated),
        new(IdentityMismatch, StatusCode.Unauthenticated),
        new(MalformedGrpcTimeout, StatusCode.InvalidArgument),
        new(DeadlineExceeded, StatusCode.DeadlineExceeded),
        new(DeadlineUnmeetable, StatusCode.DeadlineExceeded),
        new(InvalidCriticality, StatusCode.InvalidArgument),
        new(UnknownMethod, StatusCode.Unimplemented),
        new(MessageTooLarge, StatusCode.ResourceExhausted),
        new(RequestHeadersTooLarge, StatusCode.ResourceExhausted),
        new(NotGrpc, null),
        new(RouteOverloaded, StatusCode.Unavailable),
        new(BackendUnavailable, StatusCode.Unavailable),
        new(NoHealthyBackend, StatusCode.Unavailable),
        new(BackendTimeout, StatusCode.DeadlineExceeded),
        new(QueueFull, StatusCode.Unavailable),
        new(QueueTimeout, StatusCode.Unavailable),
        new(TenantShare, StatusCode.Unavailable),
        new(AdaptiveLimit, StatusCode.Unavailable),
        new(Canceled, StatusCode.Cancelled),
        new(ShuttingDown, StatusCode.Unavailable),
        new(PartitionFull, StatusCode.Unavailable),
        new(DbPoolTimeout, StatusCode.Unavailable),
        new(DbUnavailable, StatusCode.Unavailable),
        new(TenantWorkBudget, StatusCode.ResourceExhausted),
        new(DownstreamBudgetExhausted, StatusCode.DeadlineExceeded),
        new(DownstreamCircuitOpen, StatusCode.Unavailable),
        new(DownstreamFamily, null),
    ];

    /// <summary>The reason of a failed downstream call: <c>downstream-</c> + the status in kebab-case.</summary>
    /// <param name="status">The downstream's status.</param>
    /// <returns>E.g. <c>downstream-deadline-exceeded</c>.</returns>
    public static string Downstream(StatusCode status) => "downstream-" + MeshRejectReason.Kebab(status.ToString());

    /// <summary>The metric tag value of a wire value: <c>queue-full</c> → <c>queue_full</c>.</summary>
    /// <param name="wireValue">The <c>x-mesh-reject-reason</c> value.</param>
    /// <returns>The snake_case spelling.</returns>
    public static string ToMetricTag(string wireValue)
    {
        ArgumentNullException.ThrowIfNull(wireValue);
        // The listed reasons answer from a table (no string per call on the reject path); downstream-* are spelled on demand.
        return s_metricTags.TryGetValue(wireValue, out var tag) ? tag : wireValue.Replace('-', '_');
    }

    private static readonly FrozenDictionary<string, string> s_metricTags =
        All.ToFrozenDictionary(r => r.WireValue, r => r.MetricTag, StringComparer.Ordinal);
}
