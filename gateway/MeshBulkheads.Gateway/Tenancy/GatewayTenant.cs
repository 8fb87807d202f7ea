namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// The authenticated tenant of a proxied request, set on its <see cref="GatewayCall"/> by the tenancy middleware
/// (later middleware: rate limits, fairness, metrics).
/// </summary>
public sealed record GatewayTenant(string Id, string Tier);
