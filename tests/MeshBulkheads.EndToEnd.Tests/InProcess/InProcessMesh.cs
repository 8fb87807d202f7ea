using Grpc.Net.Client;
using MeshBulkheads.Gateway;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// The whole mesh in this process on real Kestrel (127.0.0.1, random ports): payments on a fresh SQLite file,
/// render, reporting wired to payments, and the gateway wired to the three. The gateway's tenants, tiers, costs,
/// routes and clusters are passed explicitly, so the tests do not depend on whichever appsettings.json landed in
/// the output folder. Functional tests share one (<see cref="InProcessMeshCollection"/>); a test that needs its own
/// limits starts one with <see cref="StartAsync"/>. Anything per-process (traces, thread-pool lag, killing a
/// process) uses child processes instead.
/// </summary>
public sealed class InProcessMesh : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "meshbulkheads-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly List<KestrelHost> _started = [];
    private readonly InProcessMeshSettings _settings;

    /// <summary>The shared fixture: every tier with ample tokens.</summary>
    public InProcessMesh()
        : this(new InProcessMeshSettings().WithAmpleRateLimits())
    {
    }

    private InProcessMesh(InProcessMeshSettings settings)
    {
        _settings = settings;
    }

    public KestrelHost Payments { get; private set; } = null!;

    public KestrelHost Reporting { get; private set; } = null!;

    public KestrelHost Render { get; private set; } = null!;

    public KestrelHost Gateway { get; private set; } = null!;

    public GrpcChannel GatewayChannel { get; private set; } = null!;

    public IReadOnlyList<KestrelHost> All => [Gateway, Payments, Reporting, Render];

    /// <summary>Starts a mesh of its own with <paramref name="settings"/> and waits until every host is ready.</summary>
    public static async Task<InProcessMesh> StartAsync(InProcessMeshSettings settings)
    {
        var mesh = new InProcessMesh(settings);
        try
        {
            await mesh.InitializeAsync();
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }

        return mesh;
    }

    /// <summary>Call options with a tenant's API key and a generous deadline (not under test).</summary>
    public static CallOptions As(string? apiKey, Metadata? extra = null)
    {
        var headers = new Metadata();
        if (apiKey is not null)
        {
            headers.Add("x-api-key", apiKey);
        }

        foreach (var entry in extra ?? [])
        {
            headers.Add(entry);
        }

        return new CallOptions(headers, deadline: DateTime.UtcNow.AddSeconds(15), cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Call options with a tenant's API key and a deadline <paramref name="timeout"/> from now.</summary>
    public static CallOptions As(string apiKey, TimeSpan timeout) =>
        new(new Metadata { { "x-api-key", apiKey } }, deadline: DateTime.UtcNow + timeout, cancellationToken: TestContext.Current.CancellationToken);

    public async ValueTask InitializeAsync()
    {
        Payments = await StartHostAsync(PaymentsApp.Build, Merge(new() { ["Payments:DataDirectory"] = _dataDirectory }, _settings.Payments), _settings.ConfigurePayments);
        Render = await StartHostAsync(RenderApp.Build, _settings.Render, _settings.ConfigureRender);
        Reporting = await StartHostAsync(ReportingApp.Build, Merge(new() { ["Reporting:PaymentsAddress"] = Payments.Endpoints.Grpc.ToString() }, _settings.Reporting), null);
        Gateway = await StartHostAsync(GatewayApp.Build, Merge(GatewayDefaults(), _settings.Gateway), null);
        foreach (var host in _started)
        {
            await host.WaitUntilReadyAsync();
        }

        GatewayChannel = Gateway.CreateChannel();
    }

    public async ValueTask DisposeAsync()
    {
        // Reverse start order: the gateway first, payments last.
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].DisposeAsync();
        }

        TempDirectories.TryDelete(_dataDirectory);
    }

    private async Task<KestrelHost> StartHostAsync(
        Func<string[], Action<WebApplicationBuilder>?, WebApplication> build,
        Dictionary<string, string?> configuration,
        Action<WebApplicationBuilder>? configure)
    {
        var host = await KestrelHost.StartAsync(build, configuration, configure);
        _started.Add(host);
        return host;
    }

    private Dictionary<string, string?> GatewayDefaults() =>
        DemoProfile.GatewaySettings(Payments.Endpoints.Grpc, Reporting.Endpoints.Grpc, Render.Endpoints.Grpc);

    private static Dictionary<string, string?> Merge(Dictionary<string, string?> defaults, Dictionary<string, string?> overrides)
    {
        foreach (var (key, value) in overrides)
        {
            defaults[key] = value;
        }

        return defaults;
    }
}
