using Grpc.Net.Client;
using MeshBulkheads.ServiceDefaults.Hosting;
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
            configure?.Invoke(builder);
        });
        await app.StartAsync().DefaultTimeout();
        return new KestrelHost(app, MeshEndpoints.From(app));
    }

    /// <summary>A channel to the host's gRPC port (disposed with the host).</summary>
    public GrpcChannel CreateChannel(GrpcChannelOptions? options = null)
    {
        var channel = GrpcChannel.ForAddress(Endpoints.Grpc, options ?? new GrpcChannelOptions());
        _channels.Add(channel);
        return channel;
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
