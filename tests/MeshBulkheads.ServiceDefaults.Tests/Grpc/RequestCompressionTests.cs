using System.IO.Compression;
using Grpc.Net.Client;
using Grpc.Net.Compression;

namespace MeshBulkheads.ServiceDefaults.Tests.Grpc;

/// <summary>
/// Requests are never decompressed: grpc-dotnet bounds a compressed message by its compressed size
/// only, so a few KB of gzip would inflate to megabytes before any limit or parser saw it.
/// </summary>
public class RequestCompressionTests
{
    [Fact]
    public async Task Call_GzipCompressedRequest_UnimplementedNamingIdentityBeforeInterceptors()
    {
        // Arrange
        var fake = new FakePaymentsHost();
        await using var host = await fake.StartAsync();
        var channel = host.CreateChannel(new GrpcChannelOptions { CompressionProviders = [new GzipCompressionProvider(CompressionLevel.Fastest)] });
        var client = new PaymentsService.PaymentsServiceClient(channel);
        var headers = new Metadata { { "grpc-internal-encoding-request", "gzip" } };

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unimplemented, thrown.StatusCode);
        Assert.Equal("Unsupported grpc-encoding value 'gzip'. Supported encodings: identity", thrown.Status.Detail);
        Assert.Equal((0, 0), fake.Counters.InterceptedAndHandled);
    }

    [Fact]
    public async Task Call_GzipBomb_RefusedWithoutInflating()
    {
        // Arrange: ~4 KB of gzip that inflates to 4 MB of a valid field (account_id) if decompressed.
        var fake = new FakePaymentsHost();
        await using var host = await fake.StartAsync();
        var channel = host.CreateChannel(new GrpcChannelOptions { CompressionProviders = [new GzipCompressionProvider(CompressionLevel.SmallestSize)], MaxSendMessageSize = null });
        var client = new PaymentsService.PaymentsServiceClient(channel);
        var headers = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
        var bomb = new GetBalanceRequest { AccountId = new string('a', 4 * 1024 * 1024) };

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            bomb, headers, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);

        // Assert: refused, and the handler never saw the inflated message.
        Assert.Equal(StatusCode.Unimplemented, thrown.StatusCode);
        Assert.Equal(0, fake.Counters.Handled);
    }
}
