using System.Security.Cryptography;
using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// Maps an API key to its tenant. Keys are kept only as SHA-256 hashes (<see cref="ApiKeyHash"/>) and compared in
/// constant time against every key of every tenant (no early exit), so neither timing nor a memory dump of the table
/// reveals a key. A tenant may have several live keys (a rotation: the old and the new one); the table follows every
/// validated change of <see cref="GatewayTenancyOptions"/>: a configuration reload or a rewritten
/// <see cref="GatewayTenancyOptions.ApiKeysFile"/>.
/// </summary>
public sealed class ApiKeyAuthenticator : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile Entry[] _entries;

    public ApiKeyAuthenticator(IOptionsMonitor<GatewayTenancyOptions> options)
    {
        _entries = BuildEntries(options.CurrentValue);
        // OnChange fires only with options that passed validation: an invalid reload keeps the last good table.
        _subscription = options.OnChange(o => _entries = BuildEntries(o));
    }

    /// <summary>The tenant whose key is <paramref name="apiKey"/>, or null for an unknown key.</summary>
    public GatewayTenant? Authenticate(string apiKey)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        // Encoded on the stack (TenancyMiddleware passes at most MaxKeyLength characters) and zeroed: no array per call.
        ApiKeyHash.Compute(apiKey, presented);

        GatewayTenant? match = null;
        foreach (var entry in _entries)
        {
            // Compare against every entry, even after a match: the time taken does not depend on which key matched.
            if (CryptographicOperations.FixedTimeEquals(entry.KeyHash, presented))
            {
                match = entry.Tenant;
            }
        }

        return match;
    }

    public void Dispose() => _subscription?.Dispose();

    /// <summary>The number of keys in the table (every tenant's live keys: old and new while one rotates).</summary>
    internal int KeyCount => _entries.Length;

    private static Entry[] BuildEntries(GatewayTenancyOptions options) =>
        [.. options.Tenants.SelectMany(t => t.AllKeyHashes().Select(hash => new Entry(hash, new GatewayTenant(t.Id, t.Tier))))];

    private sealed record Entry(byte[] KeyHash, GatewayTenant Tenant);
}
