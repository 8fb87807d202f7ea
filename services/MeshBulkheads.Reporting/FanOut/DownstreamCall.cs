using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>What every downstream call of one report carries from its caller.</summary>
/// <param name="TenantId">The caller's tenant, forwarded as <c>x-tenant-id</c>.</param>
/// <param name="Criticality">Forwarded as <c>x-mesh-criticality</c> (<c>critical</c> or <c>sheddable</c>).</param>
/// <param name="Deadline">
/// The caller's effective deadline (UTC): its <c>grpc-timeout</c>, or BuildReport's default deadline when it
/// sent none (applied by <c>DeadlineInterceptor</c>).
/// </param>
public sealed record DownstreamCall(string TenantId, string Criticality, DateTime Deadline)
{
    /// <summary>The criticality as the bulkhead understands it.</summary>
    public BulkheadCriticality BulkheadCriticality =>
        Criticality == "sheddable" ? BulkheadCriticality.Sheddable : BulkheadCriticality.Critical;
}
