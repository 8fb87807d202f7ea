using System.Collections.Frozen;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.Gateway.Identity;

/// <summary>
/// Mints the identity tokens of forwarded calls (<see cref="MeshIdentityToken"/>) with the live
/// <see cref="GatewayIdentityOptions"/>: a reload or a rotated Secret applies to the next call.
/// </summary>
public sealed class GatewayIdentitySigner
{
    private volatile Snapshot _snapshot;

    /// <summary>Creates the signer on the live options.</summary>
    public GatewayIdentitySigner(IOptionsMonitor<GatewayIdentityOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _snapshot = new Snapshot(options.CurrentValue);
        options.OnChange(o => _snapshot = new Snapshot(o));
    }

    /// <summary>
    /// A token for a call to <paramref name="audience"/>'s <paramref name="method"/> on behalf of <paramref name="tenant"/>,
    /// valid until <paramref name="deadline"/> plus the clock skew allowance; null when the gateway has no key for the audience.
    /// </summary>
    public string? Mint(string audience, string method, string tenant, string criticality, DateTimeOffset deadline, string? actor = null)
    {
        var snapshot = _snapshot;
        if (!snapshot.Keys.TryGetValue(audience, out var key))
        {
            return null;
        }

        var expires = deadline >= DateTimeOffset.MaxValue - snapshot.ClockSkew ? DateTimeOffset.MaxValue : deadline + snapshot.ClockSkew;
        return MeshIdentityToken.Mint(
            new MeshIdentityClaims(tenant, audience, method, expires, MeshIdentityToken.NewTokenId(), criticality, actor), snapshot.KeyId, key);
    }

    /// <summary>The delegation to mint alongside a call to <paramref name="method"/>, or null.</summary>
    public GatewayDelegation? DelegationFor(string method) => _snapshot.Delegations.GetValueOrDefault(method);

    /// <summary>The rejection of a call the gateway cannot sign (no key for its cluster): a configuration error, retried elsewhere.</summary>
    public static MeshRejection NoKey(string audience) => new(
        Grpc.Core.StatusCode.Unavailable,
        MeshRejectReasons.BackendUnavailable,
        $"The gateway has no identity key for '{audience}' ({GatewayIdentityOptions.SectionName}:Keys:{audience}:<SigningKeyId>), so it cannot sign calls to it.");

    private sealed class Snapshot
    {
        public Snapshot(GatewayIdentityOptions options)
        {
            KeyId = options.SigningKeyId;
            ClockSkew = options.ClockSkew;
            var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (audience, audienceKeys) in options.Keys)
            {
                if (audienceKeys.TryGetValue(options.SigningKeyId, out var encoded) && MeshIdentityToken.DecodeKey(encoded) is { } key)
                {
                    keys[audience] = key;
                }
            }

            Keys = keys.ToFrozenDictionary(StringComparer.Ordinal);
            Delegations = options.Delegations
                .GroupBy(d => d.Method, StringComparer.Ordinal)
                .ToFrozenDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        }

        public string KeyId { get; }

        public TimeSpan ClockSkew { get; }

        public FrozenDictionary<string, byte[]> Keys { get; }

        public FrozenDictionary<string, GatewayDelegation> Delegations { get; }
    }
}
