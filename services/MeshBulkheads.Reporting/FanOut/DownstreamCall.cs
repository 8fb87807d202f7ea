namespace MeshBulkheads.Reporting.FanOut;

/// <summary>What every downstream call of one report carries from its caller.</summary>
/// <param name="TenantId">The caller's tenant, forwarded as <c>x-tenant-id</c>.</param>
/// <param name="Criticality">Forwarded as <c>x-mesh-criticality</c>.</param>
/// <param name="Deadline">The caller's deadline (UTC), or <see cref="DateTime.MaxValue"/> when it sent none.</param>
public sealed record DownstreamCall(string TenantId, string Criticality, DateTime Deadline);
