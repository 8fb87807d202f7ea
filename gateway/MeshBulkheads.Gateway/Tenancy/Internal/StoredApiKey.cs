namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// One key of a tenant as the gateway keeps it: its SHA-256 (<see cref="Contracts.Identity.ApiKeyHash"/>), the length of the
/// key when the configuration held the key itself (unknown for a stored <c>sha256:</c> hash), and the setting it came from,
/// for validation messages (which name settings and tenants, never keys).
/// </summary>
internal sealed record StoredApiKey(byte[] Hash, int? KeyLength, string Setting);
