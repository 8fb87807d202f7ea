using MeshBulkheads.Gateway;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using MeshBulkheads.ServiceDefaults.Health;

namespace MeshBulkheads.LoadGen.Tests;

/// <summary>
/// The mesh in this process on real Kestrel (127.0.0.1, random ports) with the gateway's shipped
/// tenants, tiers and costs passed explicitly (the output folder's appsettings.json is whichever
/// host's landed last), so meshload meets the limits a user meets under make run.
/// </summary>
public sealed class LoadGenMesh : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "meshbulkheads-loadgen-" + Guid.NewGuid().ToString("N"));
    private readonly List<KestrelHost> _hosts = [];

    /// <summary>Settings over the gateway's shipped ones (e.g. <c>Mesh:Tls</c>); none when used as a fixture.</summary>
    public IReadOnlyDictionary<string, string?> GatewayOverrides { get; init; } = new Dictionary<string, string?>();

    public KestrelHost Gateway { get; private set; } = null!;

    public KestrelHost Render { get; private set; } = null!;

    public IReadOnlyList<KestrelHost> Hosts => _hosts;

    public async ValueTask InitializeAsync()
    {
        var payments = await StartAsync(PaymentsApp.Build, new() { ["Payments:DataDirectory"] = _dataDirectory });
        var render = Render = await StartAsync(RenderApp.Build, []);
        var reporting = await StartAsync(ReportingApp.Build, new() { ["Reporting:PaymentsAddress"] = payments.Endpoints.Grpc.ToString() });
        var gateway = DemoProfile.GatewaySettings(payments.Endpoints.Grpc, reporting.Endpoints.Grpc, render.Endpoints.Grpc);
        foreach (var (key, value) in GatewayOverrides)
        {
            gateway[key] = value;
        }

        Gateway = await StartAsync(GatewayApp.Build, gateway);
        foreach (var host in _hosts)
        {
            var state = host.Services.GetRequiredService<ReadinessState>();
            for (var i = 0; i < 600 && !state.IsReady; i++)
            {
                await Task.Delay(25, TestContext.Current.CancellationToken);
            }

            Assert.True(state.IsReady, $"host did not become ready: {state.Reason}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].DisposeAsync();
        }

        TempDirectories.TryDelete(_dataDirectory);
    }

    private async Task<KestrelHost> StartAsync(Func<string[], Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>?, Microsoft.AspNetCore.Builder.WebApplication> build, Dictionary<string, string?> configuration)
    {
        var host = await KestrelHost.StartAsync(build, configuration);
        _hosts.Add(host);
        return host;
    }
}
