using System.Net;
using Grpc.AspNetCore.Server;
using MeshBulkheads.ServiceDefaults.Health;
using MeshBulkheads.ServiceDefaults.Faults;
using MeshBulkheads.ServiceDefaults.Hosting;
using MeshBulkheads.ServiceDefaults.Hosting.Internal;
using MeshBulkheads.ServiceDefaults.Telemetry;
using MeshBulkheads.ServiceDefaults.Telemetry.Internal;
using MeshBulkheads.ServiceDefaults.Tls;
using MeshBulkheads.ServiceDefaults.Tls.Internal;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every MeshBulkheads process shares: the two listeners (gRPC over h2c, or HTTP/2 over TLS with <c>Mesh:Tls</c>,
/// + HTTP/1.1 admin),
/// OpenTelemetry (Prometheus on the admin port, OTLP when configured), liveness and readiness.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary><c>grpc.health.v1.Health</c> service name for liveness (never touches a bulkhead, database or downstream).</summary>
    public const string LivenessService = "meshbulkheads.liveness";

    /// <summary><c>grpc.health.v1.Health</c> service name for readiness (also served as the empty name "").</summary>
    public const string ReadinessService = "meshbulkheads.readiness";

    private const string LiveTag = "live";
    private const string ReadyTag = "ready";

    private const string LivenessPath = "/healthz";
    private const string ReadinessPath = "/readyz";

    /// <summary>The gRPC health service's path prefix (kubelet's gRPC probes, grpc-health-probe).</summary>
    private static readonly PathString GrpcHealthPrefix = "/grpc.health.v1.Health";

    /// <summary>Adds the shared defaults for a process named <paramref name="serviceName"/>.</summary>
    public static WebApplicationBuilder AddServiceDefaults(
        this WebApplicationBuilder builder, string serviceName, int defaultGrpcPort, int defaultAdminPort)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);

        // The process's default ports first, configuration bound over them.
        services.AddOptions<MeshHostingOptions>().Configure(o =>
        {
            o.GrpcPort = defaultGrpcPort;
            o.AdminPort = defaultAdminPort;
        });
        services.AddValidatedOptions<MeshHostingOptions, MeshHostingOptionsValidator>(MeshHostingOptions.SectionName);
        services.AddOptions<MeshMetricsOptions>().BindConfiguration(MeshMetricsOptions.SectionName).ValidateOnStart();
        services.AddValidatedOptions<MeshTracingOptions, MeshTracingOptionsValidator>(MeshTracingOptions.SectionName);
        services.AddValidatedOptions<MeshAdminOptions, MeshAdminOptionsValidator>(MeshAdminOptions.SectionName);
        // Mesh:Tls: the gRPC port's certificate (resolved by the listener only when configured).
        services.AddValidatedOptions<MeshTlsOptions, MeshTlsOptionsValidator>(MeshTlsOptions.SectionName);
        services.TryAddSingleton<ServerCertificateCache>();
        // Faults (docs/faults.md): the live state the chaos strategies read, switched through the admin port.
        services.AddOptions<MeshFaultOptions>().BindConfiguration(MeshFaultOptions.SectionName);
        services.TryAddSingleton<MeshFaults>();
        services.TryAddSingleton<FaultPipelines>();
        services.AddHostedService<MeshBulkheads.ServiceDefaults.Faults.Internal.FaultFileWatcher>();

        ConfigureListeners(builder, defaultGrpcPort, defaultAdminPort);
        ConfigureOpenTelemetry(builder, serviceName);

        // Every process measures thread-pool lag. The server metrics interceptor is registered here and added
        // by the host in MeshInterceptors' declared order (AddGrpc(o => o.AddMeshInterceptors())).
        services.AddHostedService<ThreadPoolLagProbe>();
        services.TryAddSingleton<GrpcServerMetricsInterceptor>();
        // No request decompression: grpc-dotnet bounds a compressed message by MaxReceiveMessageSize
        // but inflates it without a bound (a 4 KB gzip bomb becomes megabytes before parsing). After
        // AddGrpc's own setup, which adds gzip and deflate whenever the list is empty. A compressed
        // request then fails UNIMPLEMENTED "Unsupported grpc-encoding value 'gzip'. Supported encodings: identity".
        services.PostConfigure<GrpcServiceOptions>(o =>
        {
            o.CompressionProviders.Clear();
            o.ResponseCompressionAlgorithm = null;
        });
        services.AddGrpcClientMetrics();

        services.AddSingleton<ReadinessState>();
        services.AddHostedService<ReadinessLifecycle>();
        services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy("alive"), tags: [LiveTag])
            .AddCheck<ReadinessHealthCheck>("ready", tags: [ReadyTag]);
        services.AddGrpcHealthChecks(o =>
        {
            o.Services.Map(LivenessService, r => r.Tags.Contains(LiveTag));
            o.Services.Map(ReadinessService, r => r.Tags.Contains(ReadyTag));
            o.Services.Map(string.Empty, r => r.Tags.Contains(ReadyTag));
        });
        return builder;
    }

    /// <summary>
    /// Maps <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> on the admin port, <c>GET /readyz</c>
    /// on the gRPC port too (YARP's active health checks probe over HTTP/2), and the gRPC health service.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // After routing, before every endpoint: the listener and the matched endpoint decide (never the
        // path string or Host), and a gRPC method answers only its exact, case-sensitive path.
        app.Use(ListenerGate.InvokeAsync);

        app.MapHealthChecks(LivenessPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) })
            .WithMetadata(new AdminEndpointMetadata(ServedOnGrpcListener: false));
        app.MapHealthChecks(ReadinessPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadyTag) })
            .WithMetadata(new AdminEndpointMetadata(ServedOnGrpcListener: true));
        app.MapPrometheusScrapingEndpoint("/metrics")
            .WithMetadata(new AdminEndpointMetadata(ServedOnGrpcListener: false));
        app.MapGrpcHealthChecksService();
        app.MapFaultEndpoints();
        return app;
    }

    private static void ConfigureListeners(WebApplicationBuilder builder, int defaultGrpcPort, int defaultAdminPort)
    {
        var listeners = new MeshListeners();
        builder.Services.AddSingleton(listeners);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = new MeshHostingOptions { GrpcPort = defaultGrpcPort, AdminPort = defaultAdminPort };
            context.Configuration.GetSection(MeshHostingOptions.SectionName).Bind(options);
            // Kestrel:Limits (connections, streams per connection, keep-alive) from configuration, for every host; the
            // limits were not applied from configuration without this (KestrelLimitsTests saw the defaults).
            // The header limits first (MeshRequestLimits, the one home of the numbers the gateway's forwarding limit derives from).
            kestrel.Limits.MaxRequestHeadersTotalSize = MeshRequestLimits.RequestHeadersTotalSize;
            kestrel.Limits.MaxRequestHeaderCount = MeshRequestLimits.RequestHeaderCount;
            context.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            if (!IPAddress.TryParse(options.BindAddress, out var address))
            {
                throw new InvalidOperationException($"Mesh:BindAddress '{options.BindAddress}' is not an IP address.");
            }

            var tls = new MeshTlsOptions();
            context.Configuration.GetSection(MeshTlsOptions.SectionName).Bind(tls);
            kestrel.Listen(address, options.GrpcPort, listen =>
            {
                // h2c only: an Http1AndHttp2 cleartext port makes grpc-dotnet fail with HTTP_1_1_REQUIRED. Over TLS, ALPN
                // offers h2 only (ServerCertificateCache.OnConnectionAsync).
                listen.Protocols = HttpProtocols.Http2;
                if (tls.Enabled)
                {
                    // Per connection: the certificate the watched files hold now (reloaded without a restart).
                    var certificates = kestrel.ApplicationServices.GetRequiredService<ServerCertificateCache>();
                    listen.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = certificates.OnConnectionAsync });
                }
                else if (!IPAddress.IsLoopback(address))
                {
                    // Every gRPC port of the mesh carries a credential: API keys at the gateway, identity tokens at the services.
                    var logger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MeshListeners).FullName!);
                    MeshTlsLog.CleartextGrpcListener(logger, $"{FormatAddress(address)}:{options.GrpcPort}");
                }

                listeners.Grpc = listen;
                listeners.GrpcTls = tls.Enabled;
            });
            kestrel.Listen(address, options.AdminPort, listen =>
            {
                // Prometheus and kubelet probes speak HTTP/1.1.
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(next => connection =>
                {
                    connection.Items[AdminConnection.ItemKey] = true;
                    return next(connection);
                });
                listeners.Admin = listen;
            });
        });
    }

    private static string FormatAddress(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    private static void ConfigureOpenTelemetry(WebApplicationBuilder builder, string serviceName)
    {
        var configuration = builder.Configuration;

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(MeshTelemetry.Prefix + ".*")
                .AddMeter("Microsoft.AspNetCore.RateLimiting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http")
                .AddView(instrument => instrument.Unit == "s" && instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal)
                    ? new ExplicitBucketHistogramConfiguration { Boundaries = [.. MeshTelemetry.SecondsBuckets] }
                    : null)
                // Mesh:Metrics:Exemplars (default on): a histogram bucket keeps the trace id of a sampled
                // request that fell into it; the Prometheus exporter shows it when scraped as OpenMetrics.
                // Read when the provider is built, so configuration added after AddServiceDefaults counts.
                .Deferred((sp, m) => m.SetExemplarFilter(
                    sp.GetRequiredService<IOptions<MeshMetricsOptions>>().Value.Exemplars
                        ? ExemplarFilterType.TraceBased
                        : ExemplarFilterType.AlwaysOff))
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                // Parent-based behind the gateway; at the edge the gateway decides (MeshTracingOptions.TrustRemoteSampling).
                .Deferred((sp, t) => t.SetSampler(sp.GetRequiredService<IOptions<MeshTracingOptions>>().Value.CreateSampler()))
                .AddAspNetCoreInstrumentation(o =>
                {
                    // Probes are not traced: nothing on the admin listener (Prometheus, kubelet HTTP
                    // probes), GET /readyz on the gRPC port (YARP's active health checks) and the
                    // gRPC health service (kubelet gRPC probes). Runs before routing, so by path.
                    o.Filter = static context => !IsProbe(context);
                    o.EnrichWithHttpRequest = ServerSpanEnricher.OnRequest;
                    o.EnrichWithHttpResponse = ServerSpanEnricher.OnResponse;
                })
                // One client span per gRPC call (with rpc.* attributes), not a second HTTP span under it.
                .AddGrpcClientInstrumentation(o => o.SuppressDownstreamInstrumentation = true)
                // The gateway marks its active health probes (MeshTelemetry.MarkHealthProbe): each would
                // otherwise be a root client span every few seconds per destination.
                .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = static request => !MeshTelemetry.IsHealthProbe(request))
                .AddSource(MeshTelemetry.Prefix + ".*"));

        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
    }

    private static bool IsProbe(HttpContext context) =>
        AdminConnection.IsAdmin(context)
        || context.Request.Path.StartsWithSegments(GrpcHealthPrefix, StringComparison.Ordinal)
        || (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals(ReadinessPath, StringComparison.OrdinalIgnoreCase));
}
