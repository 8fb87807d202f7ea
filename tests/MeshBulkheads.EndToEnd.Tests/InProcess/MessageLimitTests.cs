using Grpc.AspNetCore.Server;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// Each service's MaxReceiveMessageSize (docs/sizing.md, "Message size limits — services"): its
/// largest valid request fits, one byte over the limit is refused RESOURCE_EXHAUSTED from the length
/// prefix, before parsing, a permit or a handler.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class MessageLimitTests
{
    private const string TooLarge = "Received message exceeds the maximum configured message size.";

    [Fact]
    public async Task Payments_LimitFromLargestCharge_OversizedRefused()
    {
        // Arrange
        var data = Directory.CreateTempSubdirectory("meshbulkheads-limits-").FullName;
        await using var host = await KestrelHost.StartAsync(PaymentsApp.Build, new Dictionary<string, string?> { ["Payments:DataDirectory"] = data });
        var limit = Limit(host);
        var largest = new ChargeRequest
        {
            AccountId = new string('a', 64),
            AmountMinor = long.MinValue,
            Currency = "USD",
            // 128 UTF-16 units of 3 UTF-8 bytes each: the longest key in bytes.
            IdempotencyKey = new string('€', 128),
        };
        var oversized = new ChargeRequest { AccountId = "acct-0001", IdempotencyKey = new string('k', limit) };
        var client = new PaymentsService.PaymentsServiceClient(host.CreateChannel());

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => client.ChargeAsync(oversized, Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);

        // Assert
        Assert.Equal(4 * 1024, limit);
        Assert.InRange(largest.CalculateSize(), 1, limit / 2);
        Assert.Equal(StatusCode.ResourceExhausted, thrown.StatusCode);
        Assert.Equal(TooLarge, thrown.Status.Detail);
    }

    [Fact]
    public async Task Render_LimitFromRenderRequest_OversizedRefused()
    {
        // Arrange
        await using var host = await KestrelHost.StartAsync(RenderApp.Build);
        var limit = Limit(host);
        var largest = new RenderRequest { Width = int.MinValue, Height = int.MinValue, Iterations = int.MinValue };
        var invoker = host.CreateChannel().CreateCallInvoker();
        var oversized = new Method<byte[], byte[]>(MethodType.Unary, "meshbulkheads.render.v1.RenderService", "Render", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        // Field 15 (unknown to the server), length-delimited, padded to limit + 1 bytes in all.
        var body = new byte[limit + 1];
        body[0] = (15 << 3) | 2;
        var length = body.Length - 4;
        body[1] = (byte)(0x80 | (length & 0x7F));
        body[2] = (byte)(0x80 | ((length >> 7) & 0x7F));
        body[3] = (byte)(length >> 14);

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(oversized, null, new CallOptions(Tenant(), cancellationToken: TestContext.Current.CancellationToken), body).ResponseAsync);

        // Assert
        Assert.Equal(4 * 1024, limit);
        Assert.InRange(largest.CalculateSize(), 1, limit / 2);
        Assert.Equal(StatusCode.ResourceExhausted, thrown.StatusCode);
        Assert.Equal(TooLarge, thrown.Status.Detail);
    }

    [Theory]
    [InlineData(100, 13)]
    [InlineData(1000, 129)]
    public async Task Reporting_LimitFollowsMaxAccounts_400KbOfIdsRefused(int maxAccounts, int expectedKb)
    {
        // Arrange
        await using var host = await KestrelHost.StartAsync(ReportingApp.Build, new Dictionary<string, string?> { ["Reporting:MaxAccounts"] = maxAccounts.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var limit = Limit(host);
        var largest = new BuildReportRequest { AccountIds = { Enumerable.Range(0, maxAccounts).Select(i => i.ToString("D64", System.Globalization.CultureInfo.InvariantCulture)) } };
        var flood = new BuildReportRequest { AccountIds = { Enumerable.Range(0, 400_000 / 64).Select(i => i.ToString("D64", System.Globalization.CultureInfo.InvariantCulture)) } };
        var client = new ReportingService.ReportingServiceClient(host.CreateChannel());

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => client.BuildReportAsync(flood, Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);

        // Assert
        Assert.Equal(expectedKb * 1024, limit);
        Assert.InRange(largest.CalculateSize(), 1, limit / 2);
        Assert.Equal(StatusCode.ResourceExhausted, thrown.StatusCode);
        Assert.Equal(TooLarge, thrown.Status.Detail);
    }

    private static int Limit(KestrelHost host) =>
        host.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize ?? int.MaxValue;

    private static Metadata Tenant() => new() { { "x-tenant-id", "acme" } };
}
