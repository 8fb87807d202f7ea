using Grpc.Core;
using Grpc.Net.Client;
using MeshBulkheads.Gateway;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using MeshBulkheads.ServiceDefaults.Health;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// The whole mesh in this process on real Kestrel (127.0.0.1, random ports): payments on a fresh
/// SQLite file, render, reporting wired to payments, and the gateway wired to the three. Functional
/// tests only: anything per-process (traces, thread-pool lag, killing a process) uses child processes.
/// </summary>
public sealed class InProcessMesh : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "meshbulkheads-e2e-" + Guid.NewGuid().ToString("N"));

    public KestrelHost Payments { get; private set; } = null!;

    public KestrelHost Reporting { get; private set; } = null!;

    public KestrelHost Render { get; private set; } = null!;

    public KestrelHost Gateway { get; private set; } = null!;

    public GrpcChannel GatewayChannel { get; private set; } = null!;

    public IReadOnlyList<KestrelHost> All => [Gateway, Payments, Reporting, Render];

    public async ValueTask InitializeAsync()
    {
        Payments = await KestrelHost.StartAsync(PaymentsApp.Build, new Dictionary<string, string?>
        {
            ["Payments:DataDirectory"] = _dataDirectory,
        });
        Render = await KestrelHost.StartAsync(RenderApp.Build);
        Reporting = await KestrelHost.StartAsync(ReportingApp.Build, new Dictionary<string, string?>
        {
            ["Reporting:PaymentsAddress"] = Payments.Endpoints.Grpc.ToString(),
        });
        Gateway = await KestrelHost.StartAsync(GatewayApp.Build, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:payments:Destinations:d1:Address"] = Payments.Endpoints.Grpc.ToString(),
            ["ReverseProxy:Clusters:reporting:Destinations:d1:Address"] = Reporting.Endpoints.Grpc.ToString(),
            ["ReverseProxy:Clusters:render:Destinations:d1:Address"] = Render.Endpoints.Grpc.ToString(),
            // Functional tests share one gateway: rate limits are tested on their own (Gateway.Tests,
            // EndToEnd Bulkheads), so here every tier has far more tokens than the tests spend.
            ["Gateway:Tiers:gold:TokensPerSecond"] = "100000",
            ["Gateway:Tiers:gold:Burst"] = "100000",
            ["Gateway:Tiers:silver:TokensPerSecond"] = "50000",
            ["Gateway:Tiers:silver:Burst"] = "50000",
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "10000",
            ["Gateway:Tiers:bronze:Burst"] = "10000",
        });
        foreach (var host in All)
        {
            await WaitReadyAsync(host);
        }

        GatewayChannel = Gateway.CreateChannel();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in new[] { Gateway, Reporting, Render, Payments })
        {
            if (host is not null)
            {
                await host.DisposeAsync();
            }
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
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

[CollectionDefinition(Name)]
public sealed class InProcessMeshCollection : ICollectionFixture<InProcessMesh>
{
    public const string Name = "in-process mesh";
}
