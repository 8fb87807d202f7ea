using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>
/// The attributes every server span carries (keys from <see cref="MeshTelemetryTags"/>, the same as the metrics') (set by ServiceDefaults on the ASP.NET Core request
/// span, so gateway and services need no tracing code) and the one contract a host may use to
/// override the tenant.
/// </summary>
/// <remarks>
/// Tenant, criticality, route, gRPC status and reject reason are read when the request ends, so a
/// middleware that authenticates and rewrites <c>x-tenant-id</c> or <c>x-mesh-criticality</c> on the
/// request (the gateway's tenancy and criticality middleware) is seen with its final value, and a
/// client-sent tenant the gateway removed never reaches a span. The deadline budget is read on entry.
/// </remarks>
public static class MeshActivity
{
    /// <summary>The authenticated tenant (<c>x-tenant-id</c>, or <see cref="SetTenant"/>).</summary>
    public const string TenantTag = MeshTelemetryTags.Tenant;

    /// <summary>The gRPC service short name (<c>PaymentsService</c>) or, for other endpoints, the endpoint's display name (YARP: the route id).</summary>
    public const string RouteTag = MeshTelemetryTags.Route;

    /// <summary>The call's criticality (<c>x-mesh-criticality</c>).</summary>
    public const string CriticalityTag = MeshTelemetryTags.Criticality;

    /// <summary>The caller's remaining deadline on entry in milliseconds, from the raw <c>grpc-timeout</c> header; absent when the call has no deadline.</summary>
    public const string DeadlineBudgetTag = "meshbulkheads.deadline_budget_ms";

    /// <summary>Why the call was shed (<c>x-mesh-reject-reason</c> of the response); the span's status is then Error.</summary>
    public const string RejectReasonTag = MeshTelemetryTags.Reason;

    /// <summary>The span event added when the call was shed; carries <see cref="RejectReasonTag"/>.</summary>
    public const string RejectedEvent = "meshbulkheads.rejected";

    /// <summary>The numeric gRPC status of the call (OpenTelemetry RPC semantic conventions).</summary>
    public const string GrpcStatusCodeTag = MeshTelemetryTags.GrpcStatusCode;

    /// <summary>The <see cref="HttpContext.Items"/> key <see cref="SetTenant"/> writes.</summary>
    public const string TenantItemKey = "MeshBulkheads.Tenant";

    /// <summary>
    /// Names the tenant of this request for its server span, overriding the <c>x-tenant-id</c>
    /// request header. Needed only where the tenant is known some other way than that header.
    /// </summary>
    public static void SetTenant(HttpContext context, string tenant)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[TenantItemKey] = tenant;
    }
}
