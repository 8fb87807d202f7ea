using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;

namespace MeshBulkheads.ServiceDefaults.Tests.Hosting;

/// <summary>gRPC method names are case-sensitive: only the exact path reaches a handler, an interceptor or a metric.</summary>
public class MethodPathTests
{
    [Theory]
    [InlineData("MESHBULKHEADS.payments.v1.PaymentsService", "GETBALANCE")]
    [InlineData(FakePaymentsHost.ServiceName, "getbalance")]
    [InlineData("meshbulkheads.PAYMENTS.v1.PaymentsService", "GetBalance")]
    public async Task Call_CaseVariantPath_UnimplementedBeforeInterceptors(string service, string method)
    {
        // Arrange
        var fake = new FakePaymentsHost();
        await using var host = await fake.StartAsync();
        var invoker = host.CreateChannel().CreateCallInvoker();
        var ct = TestContext.Current.CancellationToken;

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(
            FakePaymentsHost.GetBalanceAt(service, method), null, new CallOptions(cancellationToken: ct), new GetBalanceRequest { AccountId = "acct-0001" }).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unimplemented, thrown.StatusCode);
        Assert.Contains($"'/{FakePaymentsHost.ServiceName}/GetBalance'", thrown.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((0, 0), fake.Counters.InterceptedAndHandled);
    }

    [Fact]
    public async Task Call_CaseVariantPath_IsTrailersOnly()
    {
        // Arrange
        var fake = new FakePaymentsHost();
        await using var host = await fake.StartAsync();
        using var client = new HttpClient { BaseAddress = host.Endpoints.Grpc };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/MESHBULKHEADS.payments.v1.PaymentsService/GETBALANCE", UriKind.Relative))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        var ct = TestContext.Current.CancellationToken;

        // Act
        using var response = await client.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);

        // Assert: status in the headers, no message, no trailers.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("12", Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.Empty(body);
        Assert.Empty(response.TrailingHeaders);
    }

    [Fact]
    public async Task Metrics_CaseVariantCalls_AddNoSeries()
    {
        // Arrange
        var fake = new FakePaymentsHost();
        await using var host = await fake.StartAsync();
        using var collector = new MetricCollector<double>(host.Services.GetRequiredService<IMeterFactory>(), GrpcMetrics.MeterName, GrpcServerMetricsInterceptor.InstrumentName);
        var invoker = host.CreateChannel().CreateCallInvoker();
        var client = new PaymentsService.PaymentsServiceClient(invoker);
        var ct = TestContext.Current.CancellationToken;

        // Act: 20 spellings of GetBalance, then the real one.
        for (var i = 0; i < 20; i++)
        {
            var method = string.Concat("GetBalance".Select((c, n) => ((i >> (n % 5)) & 1) == 1 ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c)));
            await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(
                FakePaymentsHost.GetBalanceAt(FakePaymentsHost.ServiceName.ToUpperInvariant(), method), null, new CallOptions(cancellationToken: ct), new GetBalanceRequest()).ResponseAsync);
        }

        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, cancellationToken: ct);

        // Assert: one series, the resolved method's.
        var measurements = collector.GetMeasurementSnapshot();
        var only = Assert.Single(measurements);
        Assert.Equal(FakePaymentsHost.ServiceName, only.Tags["rpc.service"]);
        Assert.Equal("GetBalance", only.Tags["rpc.method"]);
        Assert.Equal("OK", only.Tags["rpc.grpc.status_code"]);
    }

    [Fact]
    public async Task Call_ExactPath_ServedAndLabelledWithTheResolvedMethod()
    {
        // Arrange
        var fake = new FakePaymentsHost();
        await using var host = await fake.StartAsync();
        var client = new PaymentsService.PaymentsServiceClient(host.CreateChannel());

        // Act
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(42, balance.BalanceMinor);
        Assert.Equal((1, 1), fake.Counters.InterceptedAndHandled);
    }
}
