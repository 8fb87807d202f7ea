using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// Maps an API key to its tenant. Keys are kept only as SHA-256 hashes and compared in constant
/// time against every tenant (no early exit), so neither timing nor a memory dump of the table
/// reveals a key.
/// </summary>
public sealed class ApiKeyAuthenticator : IDisposable
{
    // Encoding.UTF8.GetMaxByteCount(TenancyMiddleware.MaxKeyLength): 3 bytes per character plus one for a split surrogate.
    private const int MaxStackBytes = 3 * (TenancyMiddleware.MaxKeyLength + 1);

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
        // Encoded on the stack (TenancyMiddleware passes at most MaxKeyLength characters): no array per call.
        var length = Encoding.UTF8.GetMaxByteCount(apiKey.Length);
        var rented = length <= MaxStackBytes ? null : ArrayPool<byte>.Shared.Rent(length);
        Span<byte> utf8 = rented is null ? stackalloc byte[MaxStackBytes] : rented;
        try
        {
            var written = Encoding.UTF8.GetBytes(apiKey, utf8);
            SHA256.HashData(utf8[..written], presented);
            CryptographicOperations.ZeroMemory(utf8[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

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

    private static Entry[] BuildEntries(GatewayTenancyOptions options) =>
        [.. options.Tenants
            .Where(t => !string.IsNullOrEmpty(t.ApiKey))
            .Select(t => new Entry(SHA256.HashData(Encoding.UTF8.GetBytes(t.ApiKey!)), new GatewayTenant(t.Id, t.Tier)))];

    private sealed record Entry(byte[] KeyHash, GatewayTenant Tenant);
}
