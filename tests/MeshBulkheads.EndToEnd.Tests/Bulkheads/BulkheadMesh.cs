using Grpc.Core;
using Grpc.Net.Client;
using MeshBulkheads.Gateway;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using MeshBulkheads.ServiceDefaults.Health;
using MeshBulkheads.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// Per-host settings for <see cref="BulkheadMesh"/>: configuration overrides and a <c>configure</c>
/// callback (test-only services such as probes) for each host.
/// </summary>
public sealed class BulkheadMeshSettings
{
    public Dictionary<string, string?> Payments { get; } = [];

    public Dictionary<string, string?> Reporting { get; } = [];

    public Dictionary<string, string?> Render { get; } = [];

    public Dictionary<string, string?> Gateway { get; } = [];

    public Action<WebApplicationBuilder>? ConfigurePayments { get; set; }

    public Action<WebApplicationBuilder>? ConfigureRender { get; set; }

    /// <summary>Raises the gold tier far above any flood in these tests, so the tenant rate limit cannot mask a bulkhead.</summary>
    public BulkheadMeshSettings WithUnlimitedGold()
    {
        Gateway["Gateway:Tiers:gold:TokensPerSecond"] = "100000";
        Gateway["Gateway:Tiers:gold:Burst"] = "100000";
        return this;
    }
}

/// <summary>
/// The whole mesh in this process on real Kestrel (127.0.0.1, random ports), like
/// <c>InProcess/InProcessMesh</c>, but started per test with per-host configuration overrides and
/// <c>configure</c> callbacks. The gateway's tenants, tiers, costs, routes and clusters are passed
/// explicitly, so the tests do not depend on whichever appsettings.json landed in the output folder.
/// </summary>
public sealed class BulkheadMesh : IAsyncDisposable
{
    /// <summary>API key of <c>acme</c> (gold).</summary>
    public const string GoldKey = "acme-dev-key";

    /// <summary>API key of <c>globex</c> (silver).</summary>
    public const string SilverKey = "globex-dev-key";

    /// <summary>API key of <c>initech</c> (bronze).</summary>
    public const string BronzeKey = "initech-dev-key";

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "meshbulkheads-bulkheads-" + Guid.NewGuid().ToString("N"));
    private readonly List<KestrelHost> _started = [];

    private BulkheadMesh()
    {
    }

    public KestrelHost Payments { get; private set; } = null!;

    public KestrelHost Reporting { get; private set; } = null!;

    public KestrelHost Render { get; private set; } = null!;

    public KestrelHost Gateway { get; private set; } = null!;

    public GrpcChannel GatewayChannel { get; private set; } = null!;

    /// <summary>Starts payments (fresh SQLite), render, reporting and the gateway, and waits until all are ready.</summary>
    public static async Task<BulkheadMesh> StartAsync(BulkheadMeshSettings settings)
    {
        var mesh = new BulkheadMesh();
        try
        {
            await mesh.StartHostsAsync(settings);
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }

        return mesh;
    }

    /// <summary>Call options with a tenant's API key and a deadline <paramref name="timeout"/> from now.</summary>
    public static CallOptions As(string apiKey, TimeSpan timeout) =>
        new(new Metadata { { "x-api-key", apiKey } }, deadline: DateTime.UtcNow + timeout, cancellationToken: TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        // Reverse start order: the gateway first, payments last.
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task StartHostsAsync(BulkheadMeshSettings settings)
    {
        Payments = await StartAsync(PaymentsApp.Build, Merge(new() { ["Payments:DataDirectory"] = _dataDirectory }, settings.Payments), settings.ConfigurePayments);
        Render = await StartAsync(RenderApp.Build, settings.Render, settings.ConfigureRender);
        Reporting = await StartAsync(ReportingApp.Build, Merge(new() { ["Reporting:PaymentsAddress"] = Payments.Endpoints.Grpc.ToString() }, settings.Reporting), null);
        Gateway = await StartAsync(GatewayApp.Build, Merge(GatewayDefaults(), settings.Gateway), null);
        foreach (var host in _started)
        {
            await WaitReadyAsync(host);
        }

        GatewayChannel = Gateway.CreateChannel();
    }

    private async Task<KestrelHost> StartAsync(
        Func<string[], Action<WebApplicationBuilder>?, WebApplication> build,
        Dictionary<string, string?> configuration,
        Action<WebApplicationBuilder>? configure)
    {
        var host = await KestrelHost.StartAsync(build, configuration, configure);
        _started.Add(host);
        return host;
    }

    private Dictionary<string, string?> GatewayDefaults()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Tenants:0:Id"] = "acme",
            ["Gateway:Tenants:0:Tier"] = "gold",
            ["Gateway:Tenants:0:ApiKey"] = GoldKey,
            ["Gateway:Tenants:1:Id"] = "globex",
            ["Gateway:Tenants:1:Tier"] = "silver",
            ["Gateway:Tenants:1:ApiKey"] = SilverKey,
            ["Gateway:Tenants:2:Id"] = "initech",
            ["Gateway:Tenants:2:Tier"] = "bronze",
            ["Gateway:Tenants:2:ApiKey"] = BronzeKey,
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
        foreach (var (route, service, host) in new[]
        {
            ("payments", "meshbulkheads.payments.v1.PaymentsService", Payments),
            ("reporting", "meshbulkheads.reporting.v1.ReportingService", Reporting),
            ("render", "meshbulkheads.render.v1.RenderService", Render),
        })
        {
            settings[$"ReverseProxy:Routes:{route}:ClusterId"] = route;
            settings[$"ReverseProxy:Routes:{route}:Match:Path"] = $"/{service}/{{**method}}";
            settings[$"ReverseProxy:Clusters:{route}:HttpRequest:Version"] = "2";
            settings[$"ReverseProxy:Clusters:{route}:HttpRequest:VersionPolicy"] = "RequestVersionExact";
            settings[$"ReverseProxy:Clusters:{route}:HttpClient:EnableMultipleHttp2Connections"] = "true";
            settings[$"ReverseProxy:Clusters:{route}:Destinations:d1:Address"] = host.Endpoints.Grpc.ToString();
        }

        return settings;
    }

    private static Dictionary<string, string?> Merge(Dictionary<string, string?> defaults, Dictionary<string, string?> overrides)
    {
        foreach (var (key, value) in overrides)
        {
            defaults[key] = value;
        }

        return defaults;
    }

    private static async Task WaitReadyAsync(KestrelHost host)
    {
        var state = host.Services.GetRequiredService<ReadinessState>();
        for (var i = 0; i < 600 && !state.IsReady; i++)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.True(state.IsReady, $"host did not become ready: {state.Reason}");
    }
}
