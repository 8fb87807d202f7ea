using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>What every downstream call of one report carries from its caller.</summary>
/// <param name="TenantId">The caller's tenant, forwarded as <c>x-tenant-id</c>.</param>
/// <param name="Criticality">
/// The caller's <c>x-mesh-criticality</c> (missing → the library's <c>Criticality:Default</c>), used at
/// the fan-out cap and forwarded explicitly, so payments never has to guess.
/// </param>
/// <param name="Deadline">
/// The caller's effective deadline (UTC): its <c>grpc-timeout</c>, or BuildReport's default deadline when it
/// sent none (applied by <c>DeadlineInterceptor</c>).
/// </param>
/// <param name="Delegation">
/// The gateway's delegation token for payments <c>GetBalance</c> (<c>x-mesh-delegation</c>), forwarded unchanged as each
/// downstream call's <c>x-mesh-identity</c>: reporting holds only its own key and cannot mint one. Null when the caller
/// sent none; payments then refuses the calls (<c>UNAUTHENTICATED</c>, reported as <c>downstream-unauthenticated</c>).
/// </param>
public sealed record DownstreamCall(string TenantId, BulkheadCriticality Criticality, DateTimeOffset Deadline, string? Delegation = null);
