namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// The authenticated tenant of a proxied request, set as an <see cref="Microsoft.AspNetCore.Http.HttpContext"/>
/// feature by the tenancy middleware (later middleware: rate limits, fairness).
/// </summary>
public sealed record GatewayTenant(string Id, string Tier);
