using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// Per-host settings for <see cref="InProcessMesh.StartAsync"/>: configuration overrides and a <c>configure</c>
/// callback (test-only services such as probes) for each host.
/// </summary>
public sealed class InProcessMeshSettings
{
    public Dictionary<string, string?> Payments { get; } = [];

    public Dictionary<string, string?> Reporting { get; } = [];

    public Dictionary<string, string?> Render { get; } = [];

    public Dictionary<string, string?> Gateway { get; } = [];

    public Action<WebApplicationBuilder>? ConfigurePayments { get; set; }

    public Action<WebApplicationBuilder>? ConfigureRender { get; set; }

    /// <summary>Raises the gold tier far above any flood in these tests, so the tenant rate limit cannot mask a bulkhead.</summary>
    public InProcessMeshSettings WithUnlimitedGold()
    {
        Gateway["Gateway:Tiers:gold:TokensPerSecond"] = "100000";
        Gateway["Gateway:Tiers:gold:Burst"] = "100000";
        return this;
    }

    /// <summary>
    /// Gives every tier far more tokens than the functional tests spend: they share one gateway, and rate limits are
    /// tested on their own (Gateway.Tests, EndToEnd Bulkheads).
    /// </summary>
    public InProcessMeshSettings WithAmpleRateLimits()
    {
        WithUnlimitedGold();
        Gateway["Gateway:Tiers:silver:TokensPerSecond"] = "50000";
        Gateway["Gateway:Tiers:silver:Burst"] = "50000";
        Gateway["Gateway:Tiers:bronze:TokensPerSecond"] = "10000";
        Gateway["Gateway:Tiers:bronze:Burst"] = "10000";
        return this;
    }
}
