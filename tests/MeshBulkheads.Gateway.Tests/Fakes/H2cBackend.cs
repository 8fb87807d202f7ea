using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.Gateway.Tests.Fakes;

/// <summary>
/// What the gateway's fake backends share: an <see cref="H2cHost"/> (127.0.0.1:0) that also answers YARP's
/// readiness probe <c>GET /readyz</c>; a fake maps its own endpoints on it.
/// </summary>
public abstract class H2cBackend : IAsyncDisposable
{
    private H2cHost? _host;

    /// <summary>The backend's h2c address, e.g. http://127.0.0.1:41234.</summary>
    public Uri Address => _host!.Address;

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return _host?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    /// <summary>Starts the host with <paramref name="map"/>'s endpoints beside <c>GET /readyz</c>.</summary>
    protected async Task StartHostAsync(Action<IServiceCollection>? configureServices, Action<WebApplication> map)
    {
        _host = await H2cHost.StartAsync(configureServices, app =>
        {
            app.MapGet("/readyz", () => "ready");
            map(app);
        });
    }
}
