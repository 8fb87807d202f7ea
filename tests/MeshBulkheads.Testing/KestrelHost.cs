using Grpc.Net.Client;
using MeshBulkheads.ServiceDefaults.Health;
using MeshBulkheads.ServiceDefaults.Hosting;
using MeshBulkheads.ServiceDefaults.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace MeshBulkheads.Testing;

/// <summary>
/// A real Kestrel host on 127.0.0.1 with random ports, built by a host's static <c>Build(args, configure)</c>.
/// Configuration is passed explicitly: every host's appsettings.json lands in the test output and
/// one silently overwrites the other.
/// </summary>
public sealed class KestrelHost : InProcessHost
{
    private readonly List<GrpcChannel> _channels = [];

    private KestrelHost(WebApplication app, MeshEndpoints endpoints)
        : base(app) => Endpoints = endpoints;

    public MeshEndpoints Endpoints { get; }

    /// <summary>The host environment of every host started here, unless the test passes another.</summary>
    public const string TestEnvironment = "Testing";

    /// <summary>Builds and starts a host on 127.0.0.1 port 0 (gRPC and admin).</summary>
    public static async Task<KestrelHost> StartAsync(
        Func<string[], Action<WebApplicationBuilder>?, WebApplication> build,
        IDictionary<string, string?>? configuration = null,
        Action<WebApplicationBuilder>? configure = null,
        string environment = TestEnvironment)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Mesh:GrpcPort"] = "0",
            ["Mesh:AdminPort"] = "0",
            ["Mesh:BindAddress"] = "127.0.0.1",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in TestIdentity.GatewaySettings)
        {
            settings[key] = value;
        }

        foreach (var (key, value) in DemoProfile.Settings)
        {
            settings[key] = value;
        }

        if (configuration is not null)
        {
            foreach (var (key, value) in configuration)
            {
                settings[key] = value;
            }
        }

        // Not Production (whose gateway refuses the demo keys the tests use) and not Development (which changes
        // defaults such as payments' seeding), unless the test asks; set by argument, as a host reads it before building.
        var app = build(["--environment", environment], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            // A service without keys of its own gets its test key (a test that configures keys keeps them).
            builder.Services.PostConfigure<MeshIdentityOptions>(TestIdentity.ConfigureService);
            configure?.Invoke(builder);
        });
        await app.StartAsync().DefaultTimeout();
        return new KestrelHost(app, MeshEndpoints.From(app));
    }

    /// <summary>
    /// The service this host verifies identity tokens for (payments, reporting, render), or null for the gateway.
    /// </summary>
    public string? Audience => App.Services.GetService<IOptions<MeshIdentityOptions>>()?.Value.Audience is { Length: > 0 } audience ? audience : null;

    /// <summary>
    /// A channel to the host's gRPC port (disposed with the host). To a service, every call without an
    /// <c>x-mesh-identity</c> gets one minted like the gateway's (<see cref="TestIdentity.MintingHandler"/>); pass
    /// <paramref name="mintIdentity"/> false to call as an outsider would.
    /// </summary>
    public GrpcChannel CreateChannel(GrpcChannelOptions? options = null, bool mintIdentity = true)
    {
        options ??= new GrpcChannelOptions();
        if (mintIdentity && Audience is { } audience)
        {
            options.HttpHandler = new TestIdentity.MintingHandler(audience, options.HttpHandler ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
        }

        var channel = GrpcChannel.ForAddress(Endpoints.Grpc, options);
        _channels.Add(channel);
        return channel;
    }

    /// <summary>
    /// Waits (≤ 15 s) until the host reports ready — its warm-up done — as callers behind a Service or the gateway's
    /// health checks only reach it then; Kestrel listens, and answers, before that.
    /// </summary>
    public async Task WaitUntilReadyAsync()
    {
        var state = Services.GetRequiredService<ReadinessState>();
        for (var i = 0; i < 600 && !state.IsReady; i++)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.True(state.IsReady, $"host did not become ready: {state.Reason}");
    }

    /// <summary>An HTTP/1.1 client for the admin port.</summary>
    public HttpClient CreateAdminClient() => new() { BaseAddress = Endpoints.Admin };

    public override async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        await base.DisposeAsync();
    }
}
