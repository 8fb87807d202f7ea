using MeshBulkheads.ServiceDefaults.Tests.Hosting;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Grpc.Health.V1;
using OpenTelemetry;
using OpenTelemetry.Trace;
using GrpcHealth = Grpc.Health.V1.Health;

namespace MeshBulkheads.ServiceDefaults.Tests.Telemetry;

/// <summary>Probes are filtered at the instrumentation: an idle mesh records no spans.</summary>
[Collection(ProcessMetricsCollection.Name)]
public class ProbeSpanTests
{
    [Fact]
    public async Task ServerSpan_GrpcHealthCheck_NotRecorded()
    {
        // Arrange
        var sink = new EndedSpans();
        await using var host = await StartAsync(sink);
        var channel = host.CreateChannel();
        var health = new GrpcHealth.HealthClient(channel);
        var payments = new PaymentsService.PaymentsServiceClient(channel);
        var ct = TestContext.Current.CancellationToken;

        // Act: a probe, then a real call whose span marks that the probe's would have ended too.
        await health.CheckAsync(new HealthCheckRequest { Service = ServiceDefaultsExtensions.LivenessService }, cancellationToken: ct);
        await health.CheckAsync(new HealthCheckRequest(), cancellationToken: ct);
        await payments.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, cancellationToken: ct);
        await sink.WaitForServerSpanAsync(host.Endpoints.Grpc.Port, "/" + FakePaymentsHost.ServiceName + "/GetBalance");

        // Assert
        Assert.DoesNotContain(sink.ServerSpans(host.Endpoints.Grpc.Port), s => ((string?)s.GetTagItem("url.path"))?.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task ServerSpan_ReadyzOnGrpcPortAndAdminPort_NotRecorded()
    {
        // Arrange
        var sink = new EndedSpans();
        await using var host = await StartAsync(sink);
        var payments = new PaymentsService.PaymentsServiceClient(host.CreateChannel());
        using var admin = host.CreateAdminClient();
        using var client = new HttpClient();
        var ct = TestContext.Current.CancellationToken;

        // Act
        using var probe = new HttpRequestMessage(HttpMethod.Get, new Uri(host.Endpoints.Grpc, "/readyz")) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using (await client.SendAsync(MeshTelemetry.MarkHealthProbe(probe), ct))
        {
        }

        using (await admin.GetAsync(new Uri("/metrics", UriKind.Relative), ct))
        {
        }

        await payments.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, cancellationToken: ct);
        await sink.WaitForServerSpanAsync(host.Endpoints.Grpc.Port, "/" + FakePaymentsHost.ServiceName + "/GetBalance");

        // Assert
        Assert.DoesNotContain(sink.ServerSpans(host.Endpoints.Grpc.Port), s => (string?)s.GetTagItem("url.path") == "/readyz");
        Assert.Empty(sink.ServerSpans(host.Endpoints.Admin.Port));
    }

    [Fact]
    public async Task ClientSpan_MarkedHealthProbe_NotRecordedUnmarkedIs()
    {
        // Arrange: the host's tracer provider records this process's HttpClient calls.
        var sink = new EndedSpans();
        await using var host = await StartAsync(sink);
        using var client = new HttpClient();
        var ct = TestContext.Current.CancellationToken;
        var marked = new Uri(host.Endpoints.Grpc, "/readyz");
        var unmarked = new Uri(host.Endpoints.Grpc, "/readyz/");

        // Act: the client span ends when the response headers arrive, before SendAsync returns.
        foreach (var (uri, mark) in new[] { (marked, true), (unmarked, false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await client.SendAsync(mark ? MeshTelemetry.MarkHealthProbe(request) : request, ct);
        }

        // Assert
        var urls = sink.ClientUrls();
        Assert.DoesNotContain(marked.ToString(), urls);
        Assert.Contains(unmarked.ToString(), urls);
    }

    private static Task<KestrelHost> StartAsync(EndedSpans sink) =>
        new FakePaymentsHost().StartAsync(builder => builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(sink)));

    /// <summary>Every span this process's tracer providers ended (parallel tests' hosts too: filter by port).</summary>
    private sealed class EndedSpans : BaseProcessor<Activity>
    {
        private readonly ConcurrentQueue<Activity> _ended = new();
        private readonly ConcurrentDictionary<(int Port, string Path), TaskCompletionSource> _waiters = new();

        public override void OnEnd(Activity data)
        {
            _ended.Enqueue(data);
            if (data.Kind == ActivityKind.Server && data.GetTagItem("url.path") is string path && data.GetTagItem("server.port") is int port)
            {
                Waiter(port, path).TrySetResult();
            }
        }

        public Task WaitForServerSpanAsync(int port, string path) => Waiter(port, path).Task.DefaultTimeout();

        public IReadOnlyList<Activity> ServerSpans(int port) =>
            [.. _ended.Where(s => s.Kind == ActivityKind.Server && s.GetTagItem("server.port") is int p && p == port)];

        public IReadOnlyList<string> ClientUrls() =>
            [.. _ended.Where(s => s.Kind == ActivityKind.Client).Select(s => s.GetTagItem("url.full") as string ?? string.Empty)];

        private TaskCompletionSource Waiter(int port, string path) =>
            _waiters.GetOrAdd((port, path), _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
