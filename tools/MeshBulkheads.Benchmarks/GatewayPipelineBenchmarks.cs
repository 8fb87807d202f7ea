using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using MeshBulkheads.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace MeshBulkheads.Benchmarks;

/// <summary>
/// One proxied <c>GetBalance</c> call through the gateway's whole per-call pipeline in process (no sockets):
/// <see cref="TestServer"/> in front, YARP's forwarder behind, and an in-memory backend that drains the request
/// and answers a gRPC <c>OK</c> with trailers. <see cref="Pipeline"/> is a ladder: <c>bare-yarp</c> (YARP and the
/// mesh's telemetry, no gateway), <c>gateway-host</c> (the gateway host with none of its per-call features), then each
/// of <c>GatewayApp.PipelineFeatures</c> added in pipeline order (<c>+tenancy</c> runs every feature up to and
/// including tenancy), ending with every feature on (<c>+deadline-forwarding</c>): the difference
/// between two rungs is what that feature costs per call, in time and in allocated bytes.
/// </summary>
/// <remarks>
/// Tracing is on at the chart's default sampling ratio (1) with an exporter-less tracer provider and every meter
/// has a listener (<see cref="MeterListener"/>), so spans and metric recordings really happen. Allocations are
/// process-wide (<c>GC.GetTotalAllocatedBytes</c>), so the thread-pool hops of the async pipeline are counted.
/// </remarks>
[MemoryDiagnoser]
public class GatewayPipelineBenchmarks
{
    private const string Method = "/meshbulkheads.payments.v1.PaymentsService/GetBalance";
    private const string GoldKey = "acme-dev-key";
    private const string BareYarp = "bare-yarp";
    private const string GatewayHost = "gateway-host";

    // GetBalanceRequest { account_id = "acme-0001" } in a gRPC frame; the answer is a small GetBalanceResponse.
    private static readonly byte[] RequestFrame = Frame([0x0a, 0x09, .. "acme-0001"u8]);
    private static readonly byte[] ResponseFrame = Frame([0x08, 0x90, 0x4e, 0x12, 0x03, .. "EUR"u8]);

    private WebApplication _app = null!;
    private TestServer _server = null!;
    private MeterListener _listener = null!;

    /// <summary>The rungs of the ladder (see the class summary).</summary>
    public static IEnumerable<string> Pipelines =>
        [BareYarp, GatewayHost, .. GatewayApp.PipelineFeatures.Select(feature => "+" + feature)];

    [ParamsSource(nameof(Pipelines))]
    public string Pipeline { get; set; } = BareYarp;

    // In process, the first case would also pay for tiering up the code every case shares (YARP, TestServer, the
    // gateway): warmed once per process on the full pipeline before any case is measured.
    private static bool s_warmed;

    [GlobalSetup]
    public void Setup()
    {
        if (!s_warmed)
        {
            s_warmed = true;
            var warm = new GatewayPipelineBenchmarks { Pipeline = "+" + GatewayApp.PipelineFeatures[^1] };
            warm.Setup();
            for (var i = 0; i < 30_000; i++)
            {
                warm.GetBalance().GetAwaiter().GetResult();
            }

            warm.Cleanup();
        }

        _listener = new MeterListener { InstrumentPublished = static (instrument, listener) => listener.EnableMeasurementEvents(instrument) };
        _listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _listener.SetMeasurementEventCallback<int>(static (_, _, _, _) => { });
        _listener.Start();

        _app = Pipeline == BareYarp ? BuildBareYarp() : BuildGateway(FeaturesOf(Pipeline));
        _app.StartAsync().GetAwaiter().GetResult();
        _server = (TestServer)_app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();

        // Refuse to measure anything but a forwarded OK (a rejection is far cheaper than a forward).
        var context = SendAsync().GetAwaiter().GetResult();
        if (StatusOf(context) != "0")
        {
            throw new InvalidOperationException(
                $"{Pipeline}: expected grpc-status 0 from the in-memory backend, got HTTP {context.Response.StatusCode} with "
                + string.Join(", ", context.Response.Headers.Select(h => $"{h.Key}: {h.Value}"))
                + $"; trailers feature {context.Features.Get<IHttpResponseTrailersFeature>()?.GetType().Name ?? "none"}: "
                + string.Join(", ", context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers.Select(h => $"{h.Key}: {h.Value}") ?? []));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
        _listener.Dispose();
    }

    [Benchmark]
    public async Task<string?> GetBalance() => StatusOf(await SendAsync());

    /// <summary>One call, complete: SendAsync returns when the response starts, the trailers come with the body's end.</summary>
    private async Task<HttpContext> SendAsync()
    {
        var context = await _server.SendAsync(static c =>
        {
            c.Request.Method = HttpMethods.Post;
            c.Request.Protocol = HttpProtocol.Http2;
            c.Request.Scheme = "http";
            c.Request.Path = Method;
            c.Request.ContentType = "application/grpc";
            c.Request.Headers.TE = "trailers";
            c.Request.Headers["x-api-key"] = GoldKey;
            c.Request.Body = new MemoryStream(RequestFrame, writable: false);
        });
        await context.Response.Body.CopyToAsync(Stream.Null);
        return context;
    }

    private static string? StatusOf(HttpContext context)
    {
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        return trailers?["grpc-status"] is { Count: > 0 } status ? status.ToString() : context.Response.Headers["grpc-status"].ToString();
    }

    /// <summary>How many of the gateway's features the rung runs: 0 for the bare host, n for "+" the n-th feature.</summary>
    private static int FeaturesOf(string pipeline) =>
        pipeline == GatewayHost ? 0 : Array.IndexOf(GatewayApp.PipelineFeatures, pipeline[1..]) + 1;

    /// <summary>The gateway as shipped (appsettings.json + the Development file's demo tenants), with headroom so nothing sheds.</summary>
    private static WebApplication BuildGateway(int features) =>
        GatewayApp.Build(
            ["--environment", Environments.Development],
            builder =>
            {
                builder.WebHost.UseTestServer();
                builder.Configuration.AddJsonStream(ShippedFile("gateway.appsettings.json"));
                builder.Configuration.AddJsonStream(ShippedFile("gateway.appsettings.Development.json"));
                builder.Configuration.AddInMemoryCollection(Settings(
                    ("ReverseProxy:Clusters:payments:Destinations:d1:Address", "http://127.0.0.1:1"),
                    ("ReverseProxy:Clusters:reporting:Destinations:d1:Address", "http://127.0.0.1:1"),
                    ("ReverseProxy:Clusters:render:Destinations:d1:Address", "http://127.0.0.1:1"),
                    ("ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled", "false"),
                    ("ReverseProxy:Clusters:reporting:HealthCheck:Active:Enabled", "false"),
                    ("ReverseProxy:Clusters:render:HealthCheck:Active:Enabled", "false"),
                    // As make bench's gateway part: the limiter runs on every call but never refuses.
                    ("Gateway:Tiers:gold:TokensPerSecond", "1000000"),
                    ("Gateway:Tiers:gold:Burst", "1000000"),
                    ("Gateway:RouteBulkheads:payments:PermitsPerDestination", "256"),
                    ("Gateway:RouteBulkheads:payments:QueuePerDestination", "256"),
                    ("Bulkheads:gateway-payments:TenantMaxShare", "1"),
                    ("Mesh:Tracing:SamplingRatio", "1"),
                    ("Logging:LogLevel:Default", "Warning"),
                    // Signing keys as make run generates them (the shipped file holds none).
                    ("Gateway:Identity:Keys:payments:k1", IdentityKey),
                    ("Gateway:Identity:Keys:reporting:k1", IdentityKey),
                    ("Gateway:Identity:Keys:render:k1", IdentityKey)));
                builder.Services.AddSingleton<IForwarderHttpClientFactory, InMemoryBackendFactory>();
            },
            features);

    /// <summary>YARP with one route and the mesh's telemetry (as <c>tools/MeshBulkheads.Bench bare-yarp</c>), same backend.</summary>
    private static WebApplication BuildBareYarp()
    {
        var builder = WebApplication.CreateSlimBuilder(["--environment", Environments.Development]);
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(Settings(("Mesh:Tracing:SamplingRatio", "1"), ("Logging:LogLevel:Default", "Warning")));
        builder.AddServiceDefaults("bare-yarp", defaultGrpcPort: 8090, defaultAdminPort: 9090);
        builder.Services.AddGrpc(o => o.IgnoreUnknownServices = true);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "/{**catch-all}" } }],
            [new ClusterConfig
            {
                ClusterId = "backend",
                HttpRequest = new() { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
                Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = "http://127.0.0.1:1" } },
            }]);
        builder.Services.AddSingleton<IForwarderHttpClientFactory, InMemoryBackendFactory>();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapReverseProxy();
        return app;
    }

    private static readonly string IdentityKey = MeshBulkheads.Contracts.Identity.MeshIdentityToken.NewKey();

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] settings) =>
        settings.ToDictionary(s => s.Key, s => (string?)s.Value);

    private static Stream ShippedFile(string name) =>
        typeof(GatewayPipelineBenchmarks).Assembly.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"embedded resource {name} is missing");

    private static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Every cluster's client is the in-memory backend.</summary>
    private sealed class InMemoryBackendFactory : IForwarderHttpClientFactory
    {
        public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context) => new(new InMemoryBackend(), disposeHandler: true);
    }

    /// <summary>A gRPC backend in memory: reads the whole request, answers one message and <c>grpc-status: 0</c> in the trailers.</summary>
    private sealed class InMemoryBackend : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                await request.Content.CopyToAsync(Stream.Null, cancellationToken);
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK)
            {
                Version = HttpVersion.Version20,
                RequestMessage = request,
                Content = new ByteArrayContent(ResponseFrame),
            };
            response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            response.TrailingHeaders.Add("grpc-status", "0");
            return response;
        }
    }
}
