using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace MeshBulkheads.EndToEnd.Tests.AppHost;

/// <summary>
/// The real AppHost (the one `make run` starts), through Aspire.Hosting.Testing, on shifted ports
/// and a temporary data directory. One app for the class: its teardown takes about 13 s.
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private DistributedApplication? _app;
    private string? _dataDirectory;

    public int PortOffset { get; private set; }

    /// <summary>The gateway's gRPC (h2c) address under the AppHost.</summary>
    public Uri GatewayGrpc => new($"http://127.0.0.1:{8080 + PortOffset}");

    public async ValueTask InitializeAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(StartTimeout);
        var ct = timeout.Token;

        PortOffset = AppHost.PortOffset.FindFree();
        _dataDirectory = Directory.CreateTempSubdirectory("meshbulkheads-apphost-").FullName;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MeshBulkheads_AppHost>(
            [$"--MeshBulkheads:PortOffset={PortOffset}", $"--MeshBulkheads:DataDirectory={_dataDirectory}"],
            ct);
        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        // Healthy = the admin port's /readyz answered 200; the gateway waits for the three services.
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_dataDirectory is not null)
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
