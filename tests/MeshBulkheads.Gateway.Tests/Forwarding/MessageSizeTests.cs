using Grpc.Net.Client;
using MeshBulkheads.Contracts.Reporting.V1;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary>An oversized message gets RESOURCE_EXHAUSTED naming the route's limit, not an HTTP/2 reset.</summary>
public class MessageSizeTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task GetBalance_16MiBMessage_ResourceExhaustedNamingTheRouteLimit()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel(new GrpcChannelOptions { MaxSendMessageSize = null }));
        var request = new GetBalanceRequest { AccountId = new string('a', 16 * 1024 * 1024) };

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(MeshRejectReasons.MessageTooLarge, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains($"request of {16 * 1024 * 1024 + 5 + 5} bytes exceeds route 'payments' limit of 4101 bytes", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Payments.Calls, c => c.Request is GetBalanceRequest g && g.AccountId.Length > 64);
    }

    [Fact]
    public async Task BuildReport_LargestValidRequest_Forwarded()
    {
        // Arrange: Reporting:MaxAccounts (100) ids of the longest valid length (64), as sized in docs/sizing.md.
        var client = new ReportingService.ReportingServiceClient(fixture.Gateway.CreateChannel());
        var prefix = Guid.NewGuid().ToString("N");
        var request = new BuildReportRequest();
        request.AccountIds.AddRange(Enumerable.Range(0, 100).Select(i => (prefix + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).PadRight(64, 'x')));

        // Act
        var response = await client.BuildReportAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(100, response.Accounts.Count);
        Assert.Single(fixture.Reporting.CallsFor(request));
    }

    [Fact]
    public async Task Render_MessageOneByteOverTheLimit_ResourceExhaustedAndNotForwarded()
    {
        // Arrange: a raw frame whose payload is one byte more than render's 4 096-byte message limit.
        var payload = new byte[4097];
        var outcome = await RawGrpc.CallAsync(fixture.Gateway.Endpoints.Grpc, "/meshbulkheads.render.v1.RenderService/Render", new Google.Protobuf.WellKnownTypes.BytesValue { Value = Google.Protobuf.ByteString.CopyFrom(payload, 0, 4094) }, DemoTenants.AcmeKey, Ct);

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, outcome.Status);
        Assert.Equal(MeshRejectReasons.MessageTooLarge, outcome.Reason);
        Assert.Contains("request of 4102 bytes exceeds route 'render' limit of 4101 bytes", outcome.Message, StringComparison.Ordinal);
    }
}
