using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Testing;

/// <summary>
/// The demo tenants of the gateway's development configuration (<c>appsettings.Development.json</c>, <c>Gateway:Tenants</c>; <see cref="DemoProfile"/> for in-process hosts), the one place the
/// tests spell their API keys. They are demo keys, public by design; a deployment replaces them.
/// </summary>
public static class DemoTenants
{
    /// <summary>The id of the gold-tier demo tenant.</summary>
    public const string Acme = "acme";

    /// <summary>The id of the silver-tier demo tenant.</summary>
    public const string Globex = "globex";

    /// <summary>The id of the bronze-tier demo tenant.</summary>
    public const string Initech = "initech";

    /// <summary>API key of <see cref="Acme"/> (gold).</summary>
    public const string AcmeKey = "acme-dev-key";

    /// <summary>API key of <see cref="Globex"/> (silver).</summary>
    public const string GlobexKey = "globex-dev-key";

    /// <summary>API key of <see cref="Initech"/> (bronze).</summary>
    public const string InitechKey = "initech-dev-key";

    /// <summary>Call headers of <see cref="Acme"/> (its API key); a new instance each time, so a test may add to it.</summary>
    public static Metadata AcmeHeaders => Headers(AcmeKey);

    /// <summary>Call headers carrying <paramref name="apiKey"/> in <c>x-api-key</c>; a new instance each time.</summary>
    public static Metadata Headers(string apiKey) => new() { { MeshMetadata.ApiKey, apiKey } };
}
