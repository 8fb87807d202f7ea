namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>The known tenant tiers, best first; anything else fails validation at start.</summary>
public static class TenantTiers
{
    public const string Gold = "gold";
    public const string Silver = "silver";
    public const string Bronze = "bronze";

    /// <summary>All tiers, best first.</summary>
    public static IReadOnlyList<string> All { get; } = [Gold, Silver, Bronze];

    /// <summary>True for a known tier (case-sensitive: configuration is lowercase).</summary>
    public static bool IsKnown(string? tier) => tier is Gold or Silver or Bronze;
}
