using MeshBulkheads.ServiceDefaults.Tests.Hosting;
using MeshBulkheads.ServiceDefaults.Grpc;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Grpc.AspNetCore.Server;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Builder;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Status = Grpc.Core.Status;
using StatusCode = Grpc.Core.StatusCode;

namespace MeshBulkheads.ServiceDefaults.Tests.Telemetry;

/// <summary>The attributes ServiceDefaults puts on every server span, on a real Kestrel host.</summary>
[Collection(ProcessMetricsCollection.Name)]
public partial class ServerSpanTests
{
    private const string ShedHeader = "x-test-shed";
    private const string RewriteTenantHeader = "x-test-rewrite-tenant";
    private const string ItemsTenantHeader = "x-test-items-tenant";

    [Fact]
    public async Task ServerSpan_GrpcCall_CarriesTenantRouteCriticalityAndBudget()
    {
        // Arrange
        var sink = new SpanSink();
        await using var host = await KestrelHost.StartAsync(Build(sink));
        var payments = new PaymentsService.PaymentsServiceClient(host.CreateChannel());
        var headers = new Metadata { { "x-tenant-id", "acme" }, { "x-mesh-criticality", "sheddable" } };

        // Act
        await payments.GetBalanceAsync(Balance, headers, deadline: DateTime.UtcNow.AddSeconds(20), cancellationToken: TestContext.Current.CancellationToken);
        var span = await sink.ServerSpanAsync(host, GetBalancePath);

        // Assert
        Assert.Equal("acme", span.GetTagItem(MeshActivity.TenantTag));
        Assert.Equal("PaymentsService", span.GetTagItem(MeshActivity.RouteTag));
        Assert.Equal(FakePaymentsHost.ServiceName, span.GetTagItem("rpc.service"));
        Assert.Equal("GetBalance", span.GetTagItem("rpc.method"));
        Assert.Equal("sheddable", span.GetTagItem(MeshActivity.CriticalityTag));
        Assert.InRange((long)span.GetTagItem(MeshActivity.DeadlineBudgetTag)!, 1, 20_000);
        Assert.Equal(0, span.GetTagItem(MeshActivity.GrpcStatusCodeTag));
        Assert.Null(span.GetTagItem(MeshActivity.RejectReasonTag));
        Assert.NotEqual(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task ServerSpan_NoDeadlineNoTenant_LeavesThoseTagsOut()
    {
        // Arrange
        var sink = new SpanSink();
        await using var host = await KestrelHost.StartAsync(Build(sink));
        var payments = new PaymentsService.PaymentsServiceClient(host.CreateChannel());

        // Act
        await payments.GetBalanceAsync(Balance, cancellationToken: TestContext.Current.CancellationToken);
        var span = await sink.ServerSpanAsync(host, GetBalancePath);

        // Assert
        Assert.Null(span.GetTagItem(MeshActivity.DeadlineBudgetTag));
        Assert.Null(span.GetTagItem(MeshActivity.TenantTag));
        Assert.Null(span.GetTagItem(MeshActivity.CriticalityTag));
    }

    [Fact]
    public async Task ServerSpan_Shed_ErrorStatusRejectReasonAndEvent()
    {
        // Arrange
        var sink = new SpanSink();
        await using var host = await KestrelHost.StartAsync(Build(sink));
        var payments = new PaymentsService.PaymentsServiceClient(host.CreateChannel());

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => payments.GetBalanceAsync(
            Balance, new Metadata { { ShedHeader, "1" } }, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);
        var span = await sink.ServerSpanAsync(host, GetBalancePath);

        // Assert
        Assert.Equal(StatusCode.Unavailable, thrown.StatusCode);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("queue_full", span.StatusDescription);
        Assert.Equal("queue_full", span.GetTagItem(MeshActivity.RejectReasonTag));
        Assert.Equal((int)StatusCode.Unavailable, span.GetTagItem(MeshActivity.GrpcStatusCodeTag));
        var rejected = Assert.Single(span.Events, e => e.Name == MeshActivity.RejectedEvent);
        Assert.Equal("queue_full", rejected.Tags.Single(t => t.Key == MeshActivity.RejectReasonTag).Value);
    }

    [Theory]
    [InlineData("spoofed", RewriteTenantHeader, "globex")] // like the gateway, a middleware replaces the client's x-tenant-id after entry
    [InlineData("acme", ItemsTenantHeader, "initech")] // SetTenant overrides the header
    public async Task ServerSpan_TenantChangedAfterEntry_TagsTheFinalTenant(string headerTenant, string changedBy, string finalTenant)
    {
        // Arrange
        var sink = new SpanSink();
        await using var host = await KestrelHost.StartAsync(Build(sink));
        var payments = new PaymentsService.PaymentsServiceClient(host.CreateChannel());
        var headers = new Metadata { { "x-tenant-id", headerTenant }, { changedBy, finalTenant } };

        // Act
        await payments.GetBalanceAsync(Balance, headers, cancellationToken: TestContext.Current.CancellationToken);
        var span = await sink.ServerSpanAsync(host, GetBalancePath);

        // Assert
        Assert.Equal(finalTenant, span.GetTagItem(MeshActivity.TenantTag));
    }

    [Fact]
    public async Task Metrics_OpenMetricsAfterTracedCall_RpcDurationBucketHasTraceExemplar()
    {
        // Arrange
        var sink = new SpanSink();
        await using var host = await KestrelHost.StartAsync(Build(sink), new Dictionary<string, string?> { ["Mesh:Metrics:Exemplars"] = "true" });
        var payments = new PaymentsService.PaymentsServiceClient(host.CreateChannel());
        using var admin = host.CreateAdminClient();
        var ct = TestContext.Current.CancellationToken;
        await payments.GetBalanceAsync(Balance, cancellationToken: ct);
        var span = await sink.ServerSpanAsync(host, GetBalancePath);

        // Act: the exporter caches a scrape briefly; poll (bounded) for the one after the call.
        var exemplars = new List<string>();
        for (var i = 0; i < 50 && exemplars.Count == 0; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/openmetrics-text; version=1.0.0"));
            using var response = await admin.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            exemplars = [.. RpcServerBucketExemplar().Matches(text).Select(m => m.Groups["trace"].Value)];
            if (exemplars.Count == 0)
            {
                await Task.Delay(100, ct);
            }
        }

        // Assert: the latency buckets link to traces. Not necessarily this call's: a meter provider
        // listens to every "MeshBulkheads.*" meter in the process, so hosts of parallel tests share
        // these series and a bucket keeps its latest exemplar (one host per process in production).
        Assert.NotEmpty(exemplars);
        Assert.NotEqual(default, span.TraceId);
    }

    private const string GetBalancePath = "/" + FakePaymentsHost.ServiceName + "/GetBalance";

    private static GetBalanceRequest Balance => new() { AccountId = "acct-0001" };

    [GeneratedRegex("""^meshbulkheads_rpc_server_duration_seconds_bucket\{[^}]*rpc_method="GetBalance"[^}]*\} \d+ # \{trace_id="(?<trace>[0-9a-f]{32})",span_id="[0-9a-f]{16}"\}""", RegexOptions.Multiline)]
    private static partial Regex RpcServerBucketExemplar();

    private static Func<string[], Action<WebApplicationBuilder>?, WebApplication> Build(SpanSink sink) =>
        (args, configure) =>
        {
            var builder = WebApplication.CreateBuilder(args);
            builder.AddServiceDefaults("span-test", 0, 0);
            builder.Services.AddGrpc(o => o.AddMeshMetricsInterceptor());
            builder.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<SheddingInterceptor>());
            builder.Services.AddSingleton(new FakePaymentsHost.FakePaymentsCounters());
            builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(sink));
            configure?.Invoke(builder);
            var app = builder.Build();
            app.Use((context, next) =>
            {
                var headers = context.Request.Headers;
                if (headers.TryGetValue(RewriteTenantHeader, out var tenant))
                {
                    headers["x-tenant-id"] = tenant;
                }

                if (headers.TryGetValue(ItemsTenantHeader, out var itemsTenant))
                {
                    MeshActivity.SetTenant(context, itemsTenant.ToString());
                }

                return next(context);
            });
            app.MapDefaultEndpoints();
            app.MapGrpcService<FakePaymentsHost.FakePaymentsService>();
            return app;
        };

    /// <summary>Sheds calls that ask for it the way the bulkhead interceptor does: UNAVAILABLE + reason trailer.</summary>
    private sealed class SheddingInterceptor : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            if (context.RequestHeaders.Get(ShedHeader) is not null)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "queue full; retry later"), new Metadata { { "x-mesh-reject-reason", "queue_full" } });
            }

            return continuation(request, context);
        }
    }

    /// <summary>
    /// Receives ended server spans; lets a test await one by port and path. In one test process every
    /// host's tracer provider sees every host's ASP.NET Core spans (the instrumentation listens
    /// process-wide), so spans are told apart by the port that served them.
    /// </summary>
    private sealed class SpanSink : BaseProcessor<Activity>
    {
        private readonly ConcurrentDictionary<(int Port, string Path), TaskCompletionSource<Activity>> _waiters = new();

        public override void OnEnd(Activity data)
        {
            if (data.Kind == ActivityKind.Server && data.GetTagItem("url.path") is string path && data.GetTagItem("server.port") is int port)
            {
                Waiter(port, path).TrySetResult(data);
            }
        }

        /// <summary>The server span ends just after the response is sent, so the caller may be ahead of it.</summary>
        public Task<Activity> ServerSpanAsync(KestrelHost host, string path) => Waiter(host.Endpoints.Grpc.Port, path).Task.DefaultTimeout();

        private TaskCompletionSource<Activity> Waiter(int port, string path) =>
            _waiters.GetOrAdd((port, path), _ => new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
