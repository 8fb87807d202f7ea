namespace MeshBulkheads.Testing;

/// <summary>
/// The demo data `make run` gets from its Development configuration (the gateway's
/// appsettings.Development.json and payments' seeding), for hosts a test runs in-process, which run
/// in the <see cref="KestrelHost.TestEnvironment"/> environment (no Development files are read). A test's own
/// configuration overrides any of these keys.
/// </summary>
public static class DemoProfile
{
    /// <summary>The demo tenants with their development keys, and payments' seeding on.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>(Tenants())
    {
        ["Payments:Seed"] = "true",
    };

    /// <summary>
    /// The gateway's shipped tenants, tiers and route costs, and one route and cluster per service to the given
    /// gRPC addresses (HTTP/2 only, several connections), for a gateway a test starts in front of its own hosts.
    /// </summary>
    public static Dictionary<string, string?> GatewaySettings(Uri payments, Uri reporting, Uri render)
    {
        var settings = new Dictionary<string, string?>(Tenants())
        {
            ["Gateway:Tiers:gold:TokensPerSecond"] = "200",
            ["Gateway:Tiers:gold:Burst"] = "400",
            ["Gateway:Tiers:silver:TokensPerSecond"] = "50",
            ["Gateway:Tiers:silver:Burst"] = "100",
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "10",
            ["Gateway:Tiers:bronze:Burst"] = "20",
            ["Gateway:RouteCosts:payments"] = "1",
            ["Gateway:RouteCosts:reporting"] = "5",
            ["Gateway:RouteCosts:render"] = "10",
        };
        foreach (var (route, service, address) in new[]
        {
            ("payments", "meshbulkheads.payments.v1.PaymentsService", payments),
            ("reporting", "meshbulkheads.reporting.v1.ReportingService", reporting),
            ("render", "meshbulkheads.render.v1.RenderService", render),
        })
        {
            settings[$"ReverseProxy:Routes:{route}:ClusterId"] = route;
            settings[$"ReverseProxy:Routes:{route}:Match:Path"] = $"/{service}/{{**method}}";
            settings[$"ReverseProxy:Clusters:{route}:HttpRequest:Version"] = "2";
            settings[$"ReverseProxy:Clusters:{route}:HttpRequest:VersionPolicy"] = "RequestVersionExact";
            settings[$"ReverseProxy:Clusters:{route}:HttpClient:EnableMultipleHttp2Connections"] = "true";
            settings[$"ReverseProxy:Clusters:{route}:Destinations:d1:Address"] = address.ToString();
        }

        return settings;
    }

    private static Dictionary<string, string?> Tenants() => new()
    {
        ["Gateway:Tenants:0:Id"] = DemoTenants.Acme,
        ["Gateway:Tenants:0:Tier"] = "gold",
        ["Gateway:Tenants:0:ApiKey"] = DemoTenants.AcmeKey,
        ["Gateway:Tenants:1:Id"] = DemoTenants.Globex,
        ["Gateway:Tenants:1:Tier"] = "silver",
        ["Gateway:Tenants:1:ApiKey"] = DemoTenants.GlobexKey,
        ["Gateway:Tenants:2:Id"] = DemoTenants.Initech,
        ["Gateway:Tenants:2:Tier"] = "bronze",
        ["Gateway:Tenants:2:ApiKey"] = DemoTenants.InitechKey,
    };
}
