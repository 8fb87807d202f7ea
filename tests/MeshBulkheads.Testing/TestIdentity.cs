using System.Collections.Concurrent;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.ServiceDefaults.Identity;

namespace MeshBulkheads.Testing;

/// <summary>
/// The identity keys of every host the tests start (fresh random keys per test process, one per service, as the
/// chart and <c>make run</c> generate them) and the minting helper for tests that call a service directly, the way
/// the gateway would. <see cref="KestrelHost"/> gives each service its own key and the gateway all of them, and its
/// channels to a service mint a token per call (<see cref="MintingHandler"/>).
/// </summary>
public static class TestIdentity
{
    /// <summary>The key id of the test keys.</summary>
    public const string KeyId = "test";

    /// <summary>The services the gateway signs for (its cluster ids).</summary>
    public static readonly string[] Audiences = ["payments", "reporting", "render"];

    /// <summary>The method reporting calls on the caller's behalf, delegated by the gateway for <see cref="BuildReportMethod"/>.</summary>
    public const string GetBalanceMethod = "/meshbulkheads.payments.v1.PaymentsService/GetBalance";

    /// <summary>The one method with a delegation.</summary>
    public const string BuildReportMethod = "/meshbulkheads.reporting.v1.ReportingService/BuildReport";

    private static readonly ConcurrentDictionary<string, string> Keys = new(StringComparer.Ordinal);

    /// <summary>
    /// The variable naming a file (outside what the run writes) where every test process appends the identity keys it
    /// generates, so that scripts/test.sh can scan the run's output for them afterwards (scripts/scan-secrets.sh).
    /// </summary>
    public const string SecretsFileVariable = "MESH_TEST_SECRETS_FILE";

    private static readonly Lock ExportLock = new();

    /// <summary>The base64 key of <paramref name="audience"/>, generated on first use in this process.</summary>
    public static string Key(string audience) => Keys.GetOrAdd(audience, NewExportedKey);

    private static string NewExportedKey(string audience)
    {
        var key = MeshIdentityToken.NewKey();
        if (Environment.GetEnvironmentVariable(SecretsFileVariable) is { Length: > 0 } file)
        {
            // Appended by every test process of the run; a key a lost GetOrAdd race discards is listed too (harmless).
            lock (ExportLock)
            {
                File.AppendAllText(file, $"identity-key:{audience}\t{key}\n");
            }
        }

        return key;
    }

    /// <summary>The gateway's identity settings: every audience's key under <see cref="KeyId"/>, and the shipped delegation.</summary>
    public static IReadOnlyDictionary<string, string?> GatewaySettings
    {
        get
        {
            var settings = new Dictionary<string, string?>
            {
                ["Gateway:Identity:SigningKeyId"] = KeyId,
                ["Gateway:Identity:Delegations:0:Method"] = BuildReportMethod,
                ["Gateway:Identity:Delegations:0:Audience"] = "payments",
                ["Gateway:Identity:Delegations:0:DelegatedMethod"] = GetBalanceMethod,
            };
            foreach (var audience in Audiences)
            {
                settings[$"Gateway:Identity:Keys:{audience}:{KeyId}"] = Key(audience);
            }

            return settings;
        }
    }

    /// <summary>Gives a service host without configured keys its own test key (after its configuration, before validation).</summary>
    public static void ConfigureService(MeshIdentityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Keys.Count == 0 && options.Audience.Length > 0)
        {
            options.Keys[KeyId] = Key(options.Audience);
        }
    }

    /// <summary>A token for <paramref name="audience"/>'s <paramref name="method"/>, as the gateway would mint it.</summary>
    public static string Mint(
        string audience,
        string method,
        string tenant = DemoTenants.Acme,
        string criticality = CriticalityHeader.Critical,
        TimeSpan? lifetime = null,
        string? actor = null,
        string? key = null,
        string keyId = KeyId,
        DateTimeOffset? now = null)
    {
        var expires = (now ?? DateTimeOffset.UtcNow) + (lifetime ?? TimeSpan.FromMinutes(1));
        return MeshIdentityToken.Mint(
            new MeshIdentityClaims(tenant, audience, method, expires, MeshIdentityToken.NewTokenId(), criticality, actor),
            keyId,
            Convert.FromBase64String(key ?? Key(audience)));
    }

    /// <summary>
    /// Mints a token per request that carries none, for <paramref name="audience"/>, the request's path, its
    /// <c>x-tenant-id</c> (else none: a tenant-less call stays one) and its <c>x-mesh-criticality</c> (else critical, which
    /// leaves the service's per-method default in force); a <c>BuildReport</c> also gets the gateway's delegation.
    /// </summary>
    public sealed class MintingHandler(string audience, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        /// <inheritdoc />
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            var headers = request.Headers;
            if (!headers.Contains(MeshIdentityToken.Header) && request.RequestUri is { } uri)
            {
                // No x-tenant-id: a tenant-less token, so the call stays tenant-less as the test meant it.
                var tenant = headers.TryGetValues(MeshMetadata.TenantId, out var tenants) ? tenants.First() : string.Empty;
                var criticality = headers.TryGetValues(MeshMetadata.Criticality, out var values)
                    && CriticalityHeader.TryParse(values.First(), out var parsed) && parsed == BulkheadCriticality.Sheddable
                    ? CriticalityHeader.Sheddable
                    : CriticalityHeader.Critical;
                var method = uri.AbsolutePath;
                headers.TryAddWithoutValidation(MeshIdentityToken.Header, Mint(audience, method, tenant, criticality));
                if (string.Equals(method, BuildReportMethod, StringComparison.Ordinal) && !headers.Contains(MeshIdentityToken.DelegationHeader))
                {
                    headers.TryAddWithoutValidation(MeshIdentityToken.DelegationHeader, Mint("payments", GetBalanceMethod, tenant, criticality, actor: audience));
                }
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
