namespace MeshBulkheads.LoadGen.Cli;

/// <summary>
/// The demo tenants' API keys (gateway/MeshBulkheads.Gateway/appsettings.json), by tier. Overridable
/// with --gold-key/--silver-key/--bronze-key or MESHLOAD_GOLD_KEY/…_SILVER_KEY/…_BRONZE_KEY, so the
/// scenarios run against a gateway with other tenants.
/// </summary>
internal sealed record TenantKeys(string Gold, string Silver, string Bronze)
{
    public static TenantKeys FromEnvironment(Func<string, string?> environment) => new(
        environment("MESHLOAD_GOLD_KEY") ?? "acme-dev-key",
        environment("MESHLOAD_SILVER_KEY") ?? "globex-dev-key",
        environment("MESHLOAD_BRONZE_KEY") ?? "initech-dev-key");

    /// <summary><c>gold</c>/<c>silver</c>/<c>bronze</c> name the tier's key; anything else is a key.</summary>
    public string Resolve(string key) => key switch
    {
        "gold" => Gold,
        "silver" => Silver,
        "bronze" => Bronze,
        _ => key,
    };
}
