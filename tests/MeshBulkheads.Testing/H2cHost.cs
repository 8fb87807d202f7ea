using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MeshBulkheads.Testing;

/// <summary>
/// A bare fake backend: a slim Kestrel app speaking HTTP/2 without TLS (h2c) on 127.0.0.1 port 0, with no
/// logging and none of the mesh's defaults. Fakes put their gRPC services or raw endpoints on it; a host
/// built on the shared defaults uses <see cref="KestrelHost"/> instead.
/// </summary>
public sealed class H2cHost : InProcessHost
{
    private H2cHost(WebApplication app, Uri address)
        : base(app) => Address = address;

    /// <summary>The h2c address, e.g. http://127.0.0.1:41234.</summary>
    public Uri Address { get; }

    /// <summary>Builds and starts the host.</summary>
    /// <param name="configureServices">Registers services, e.g. <c>services.AddGrpc()</c>.</param>
    /// <param name="map">Maps the endpoints (gRPC services, raw routes).</param>
    public static Task<H2cHost> StartAsync(Action<IServiceCollection>? configureServices, Action<WebApplication> map) =>
        StartAsync(builder => configureServices?.Invoke(builder.Services), map);

    /// <summary>Builds and starts the host, for a fake that needs the builder (configuration, not only services).</summary>
    /// <param name="configure">Configures the builder, e.g. adds in-memory configuration and services.</param>
    /// <param name="map">Maps the endpoints (gRPC services, raw routes).</param>
    /// <param name="port">The port on 127.0.0.1; 0 (the default) picks a free one. A fake restarted on its old port stands for a backend coming back.</param>
    public static async Task<H2cHost> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication> map, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentNullException.ThrowIfNull(map);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        configure(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new H2cHost(app, new Uri(address));
    }
}
